package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The origin's egress counters: HTTP response body bytes (origin/
// metrics.go, one series per route) and the bytes its root node writes to
// relay nodes (node/metrics.go).
const (
	originEgressMetric = "canopy_http_response_bytes_total"
	originTreeMetric   = "canopy_node_bytes_forwarded_total"
)

// Egress is the origin's cumulative egress, by path.
type Egress struct {
	HTTP int64 `json:"http_bytes"` // responses to HTTP clients
	Tree int64 `json:"tree_bytes"` // pushes to relay nodes (root node's children)
}

// Total is all the origin sent.
func (e Egress) Total() int64 { return e.HTTP + e.Tree }

// Sub is e minus an earlier reading.
func (e Egress) Sub(e0 Egress) Egress { return Egress{HTTP: e.HTTP - e0.HTTP, Tree: e.Tree - e0.Tree} }

// ScrapeEgress reads the origin's /metrics at metricsURL: the sum of its
// HTTP response bytes over all routes and its root node's forwarded bytes.
func ScrapeEgress(ctx context.Context, c *http.Client, metricsURL string) (Egress, error) {
	v, err := ScrapeMetrics(ctx, c, metricsURL, originEgressMetric, originTreeMetric)
	if err != nil {
		return Egress{}, err
	}
	return Egress{HTTP: v[0], Tree: v[1]}, nil
}

// ScrapeMetrics reads a Prometheus text endpoint and returns, for each
// name, the sum of its series (0 when absent).
func ScrapeMetrics(ctx context.Context, c *http.Client, metricsURL string, names ...string) ([]int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHTTP, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: %s", ErrHTTP, metricsURL, res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(names))
	for i, name := range names {
		if out[i], err = sumMetric(body, name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sumMetric adds the values of every series of a metric in Prometheus text
// format.
func sumMetric(text []byte, name string) (int64, error) {
	var sum float64
	found := false
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // a longer metric name
		}
		if i := strings.LastIndexByte(rest, '}'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return 0, fmt.Errorf("%w: metric line %q", ErrHTTP, line)
		}
		sum += v
		found = true
	}
	if !found {
		return 0, nil
	}
	return int64(sum), nil
}

// HTTPClient returns the shared HTTP client (for scraping).
func (s *Shared) HTTPClient() *http.Client { return s.http }
