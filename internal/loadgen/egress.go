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

// originEgressMetric is the origin's counter of HTTP response body bytes
// (origin/metrics.go), one series per route.
const originEgressMetric = "canopy_http_response_bytes_total"

// ScrapeEgress reads the origin's /metrics at metricsURL and returns the
// sum of its HTTP response bytes over all routes.
func ScrapeEgress(ctx context.Context, c *http.Client, metricsURL string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return 0, err
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrHTTP, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%w: %s: %s", ErrHTTP, metricsURL, res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return 0, err
	}
	return sumMetric(body, originEgressMetric)
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
