package netns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canopylive/canopy/internal/testsrc"
)

const (
	streamID  = "demo"
	streamKey = "netns-e2e-key-7c1f"
	rendition = "144p"
	numNodes  = 6
	subnet    = "10.213.0"

	// Bounds after the cut.
	reparentWithin = 10 * time.Second // tracker assigns every orphan a new parent
	resumeWithin   = 25 * time.Second // and each orphan holds segments well past the cut
)

// stats is GET /tracker/stats.
type stats struct {
	Streams []struct {
		Stream string `json:"stream"`
		Root   string `json:"root"`
		Nodes  []struct {
			ID       string `json:"id"`
			Parent   string `json:"parent"`
			Depth    int    `json:"depth"`
			Children int    `json:"children"`
		} `json:"nodes"`
	} `json:"streams"`
}

// tree is one stream's tracker view: parent and depth by node ID.
type tree struct {
	root   string
	parent map[string]string
	depth  map[string]int
}

func (tr tree) children(id string) []string {
	var out []string
	for c, p := range tr.parent {
		if p == id {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// lab is the running system.
type lab struct {
	net     *Net
	ctx     context.Context
	tracker string   // tracker stats URL
	nodes   []string // member names n1..n6
	ids     map[string]string
}

func (l *lab) tree() (tree, error) {
	b, err := l.net.Get(l.ctx, "tracker", l.tracker, 3*time.Second)
	if err != nil {
		return tree{}, err
	}
	var s stats
	if err := json.Unmarshal(b, &s); err != nil {
		return tree{}, fmt.Errorf("tracker stats: %w", err)
	}
	tr := tree{parent: map[string]string{}, depth: map[string]int{}}
	for _, st := range s.Streams {
		if st.Stream != streamID {
			continue
		}
		tr.root = st.Root
		for _, n := range st.Nodes {
			tr.parent[n.ID], tr.depth[n.ID] = n.Parent, n.Depth
		}
	}
	return tr, nil
}

// newest is the highest media sequence a node holds (-1 for none).
func (l *lab) newest(member string) (int64, error) {
	url := fmt.Sprintf("http://%s:8090/live/%s/%s/records.json", l.net.Addr(member), streamID, rendition)
	b, err := l.net.Get(l.ctx, member, url, 3*time.Second)
	if err != nil {
		return -1, err
	}
	var recs []struct {
		Kind     string `json:"kind"`
		Sequence uint64 `json:"sequence"`
	}
	if err := json.Unmarshal(b, &recs); err != nil {
		return -1, fmt.Errorf("records of %s: %w", member, err)
	}
	hi := int64(-1)
	for _, r := range recs {
		if r.Kind == "media" {
			hi = max(hi, int64(r.Sequence))
		}
	}
	return hi, nil
}

// poll calls cond every 250 ms until it returns nil or within passes; it
// returns the last error.
func poll(ctx context.Context, within time.Duration, cond func() error) error {
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond): // polling interval, not synchronisation
		}
	}
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// TestTreeAcrossNamespaces runs the tracker, the origin (with its ffmpeg
// publisher) and six relay nodes as separate canopy processes, each in its
// own network namespace on its own address, waits for a tree with interior
// nodes and segments on every node, cuts an interior node's link, and
// checks that its children get a new parent from the tracker and keep
// receiving new segments while the cut node does not.
func TestTreeAcrossNamespaces(t *testing.T) {
	for _, tool := range []string{"ip", "curl", "ffmpeg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (apt-get install iproute2 curl ffmpeg): %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	t.Cleanup(cancel)
	start := time.Now()
	dir := t.TempDir() // first, so it is removed after the logs are printed

	members := []string{"tracker", "origin"}
	var nodes []string
	for i := 1; i <= numNodes; i++ {
		nodes = append(nodes, fmt.Sprintf("n%d", i))
	}
	members = append(members, nodes...)
	net, err := New(ctx, Params{Prefix: fmt.Sprintf("cnp%d", os.Getpid()), Subnet: subnet, Members: members})
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("SKIPPED, NOT RUN: this machine does not allow network namespaces, which this test needs (run it as root with iproute2): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := net.Close(); err != nil {
			t.Errorf("remove namespaces: %v", err)
		}
	})
	var procs []*proc
	t.Cleanup(func() { // runs after every process has stopped
		if t.Failed() {
			for _, p := range procs {
				t.Logf("=== %s\n%s", p.name, p.tail(40))
			}
		}
	})

	bin := filepath.Join(dir, "canopy")
	if out, err := exec.CommandContext(ctx, goTool(), "build", "-o", bin, "github.com/canopylive/canopy/cmd/canopy").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p2p := func(m string, port int) string {
		return fmt.Sprintf("/ip4/%s/tcp/%d,/ip4/%s/udp/%d/quic-v1", net.Addr(m), port, net.Addr(m), port)
	}
	mkdir := func(name string) string {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}

	// Tracker.
	trk := startProc(t, net, dir, "tracker", "tracker", bin, "tracker", "--data-dir", mkdir("tracker-data"),
		"--p2p-listen", p2p("tracker", 4002), "--http", net.Addr("tracker")+":8081")
	procs = append(procs, trk)
	trackers := trk.waitLine(t, regexp.MustCompile(`nodes join with --trackers (\S+)`), 15*time.Second)

	// Origin, with a one-rung ladder (144p) so the test is light; default 2 s segments.
	cfg := filepath.Join(dir, "origin.yaml")
	yaml := fmt.Sprintf(`origin:
  streams:
    - {id: %s, key: %s}
  relay_children: 2
  transcode:
    preset: ultrafast
    ladder:
      - {name: %s, height: 144, bitrate: 200000}
`, streamID, streamKey, rendition)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	oa := net.Addr("origin")
	org := startProc(t, net, dir, "origin", "origin", bin, "origin", "--config", cfg, "--data-dir", mkdir("origin-data"),
		"--http", oa+":8080", "--rtmp", oa+":1935", "--p2p-listen", p2p("origin", 4001), "--trackers", trackers)
	procs = append(procs, org)
	originURL := "http://" + oa + ":8080"
	if err := poll(ctx, 20*time.Second, func() error {
		_, err := net.Get(ctx, "origin", originURL+"/api/v1/origin", 2*time.Second)
		return err
	}); err != nil {
		t.Fatalf("origin API never answered: %v", err)
	}

	// Publisher, inside the origin's namespace.
	args := testsrc.Args(testsrc.Params{URL: fmt.Sprintf("rtmp://%s:1935/live/%s", oa, streamKey),
		Width: 640, Height: 360, FPS: 25, GOP: 2 * time.Second, Audio: true, Realtime: true, Bitrate: "600k"})
	procs = append(procs, startProc(t, net, dir, "ffmpeg", "origin", "ffmpeg", args...))

	// Six relay nodes, at most two children each.
	l := &lab{net: net, ctx: ctx, tracker: "http://" + net.Addr("tracker") + ":8081/tracker/stats", nodes: nodes, ids: map[string]string{}}
	var nodeProcs []*proc
	for _, m := range nodes {
		p := startProc(t, net, dir, m, m, bin, "node", "--data-dir", mkdir(m+"-data"), "--p2p-listen", p2p(m, 4003),
			"--nat=false", "--http", net.Addr(m)+":8090", "--trackers", trackers, "--origin-url", originURL,
			"--streams", streamID, "--max-children", "2")
		procs = append(procs, p)
		nodeProcs = append(nodeProcs, p)
	}
	var tr tree
	byID := map[string]string{} // peer ID -> member
	for i, p := range nodeProcs {
		id := p.waitLine(t, regexp.MustCompile(`Canopy relay node (\S+)`), 20*time.Second)
		l.ids[nodes[i]] = id
		byID[id] = nodes[i]
	}
	name := func(id string) string {
		if m, ok := byID[id]; ok {
			return m
		}
		if id != "" && id == tr.root {
			return "origin"
		}
		return id
	}

	// Every node attached and holding media segments.
	err = poll(ctx, 60*time.Second, func() error {
		var err error
		if tr, err = l.tree(); err != nil {
			return err
		}
		for _, m := range nodes {
			if tr.parent[l.ids[m]] == "" {
				return fmt.Errorf("%s has no parent in the tracker's tree", m)
			}
			if seq, err := l.newest(m); err != nil || seq < 2 {
				return fmt.Errorf("%s holds no media segments yet (newest %d): %v", m, seq, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("tree never formed: %v", err)
	}
	t.Logf("tree formed %v after start:", time.Since(start).Round(time.Millisecond))
	for _, m := range nodes {
		id := l.ids[m]
		t.Logf("  %s at %s: parent %s, depth %d", m, net.Addr(m), name(tr.parent[id]), tr.depth[id])
	}

	// Cut the interior node with the most children.
	victim := ""
	for _, m := range nodes {
		if len(tr.children(l.ids[m])) > len(tr.children(l.ids[victim])) || victim == "" && len(tr.children(l.ids[m])) > 0 {
			victim = m
		}
	}
	if victim == "" {
		t.Fatal("no relay node has children: the tree has no interior node")
	}
	orphans := tr.children(l.ids[victim])
	var cutSeq int64
	for _, m := range nodes {
		seq, err := l.newest(m)
		if err != nil {
			t.Fatal(err)
		}
		cutSeq = max(cutSeq, seq)
	}
	if err := net.Cut(ctx, victim); err != nil {
		t.Fatal(err)
	}
	cutAt := time.Now()
	var orphanNames []string
	for _, o := range orphans {
		orphanNames = append(orphanNames, name(o))
	}
	slices.Sort(orphanNames)
	t.Logf("cut %s's link at segment %d; its children: %s", victim, cutSeq, strings.Join(orphanNames, ", "))

	// Each former child gets a new parent from the tracker within 10 s.
	err = poll(ctx, reparentWithin, func() error {
		var err error
		if tr, err = l.tree(); err != nil {
			return err
		}
		for _, o := range orphans {
			if p := tr.parent[o]; p == "" || p == l.ids[victim] {
				return fmt.Errorf("%s still has parent %q", name(o), name(p))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("children of %s not re-parented within %v: %v", victim, reparentWithin, err)
	}
	reparented := time.Since(cutAt)
	for _, o := range orphans {
		t.Logf("  %s re-parented to %s (depth %d)", name(o), name(tr.parent[o]), tr.depth[o])
	}

	// ... and keeps receiving new segments, well past the cut.
	want := cutSeq + 3 // three segments (6 s) past the cut
	err = poll(ctx, resumeWithin, func() error {
		for _, o := range orphans {
			if seq, err := l.newest(name(o)); err != nil || seq < want {
				return fmt.Errorf("%s's newest segment is %d, want >= %d: %v", name(o), seq, want, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("children of %s got no new segments within %v of the cut: %v", victim, resumeWithin, err)
	}
	resumed := time.Since(cutAt)

	// The cut was real: the isolated node got nothing new.
	if seq, err := l.newest(victim); err != nil {
		t.Errorf("cut node %s: %v", victim, err)
	} else if seq > cutSeq+1 {
		t.Errorf("cut node %s received segment %d after the cut at %d: its link was not cut", victim, seq, cutSeq)
	}
	if tr, err = l.tree(); err != nil {
		t.Fatal(err)
	}
	if c := tr.children(l.ids[victim]); len(c) > 0 {
		t.Errorf("tracker still has %d children under the cut node %s", len(c), victim)
	}
	for _, p := range procs {
		if p.exited() {
			t.Errorf("%s exited during the test: %v", p.name, p.err)
		}
	}
	t.Logf("children re-parented %v after the cut, all past segment %d %v after it; total %v",
		reparented.Round(time.Millisecond), want, resumed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}
