package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Errors returned by New and the Net methods.
var (
	// ErrUnsupported: this process may not create network namespaces (not
	// root, or the kernel or container refuses).
	ErrUnsupported = errors.New("netns: cannot create network namespaces here")
	// ErrUnknownMember: a name that was not in Params.Members.
	ErrUnknownMember = errors.New("netns: unknown member")
	// ErrIP: an `ip` or `curl` command failed.
	ErrIP = errors.New("netns: command failed")
)

// cmdTimeout bounds every ip command.
const cmdTimeout = 10 * time.Second

// Params describes the network.
type Params struct {
	// Prefix makes the namespace names unique, e.g. "cnp1234"; namespaces
	// are named Prefix-hub and Prefix-<member>.
	Prefix string
	// Subnet is the first three octets of the /24, e.g. "10.213.0".
	Subnet string
	// Members are the namespaces to create, in order; member i gets
	// Subnet.(10+i). Names: 1-8 of a-z 0-9.
	Members []string
	// IP is the ip binary; default "ip".
	IP string
}

// Net is a running network of namespaces.
type Net struct {
	p       Params
	hub     string
	members map[string]int // name -> index
	created []string       // namespaces to delete on Close
}

// New creates the hub namespace with a bridge and one namespace per member,
// each linked to the bridge. On error everything created is removed again.
func New(ctx context.Context, p Params) (*Net, error) {
	if p.IP == "" {
		p.IP = "ip"
	}
	if p.Prefix == "" || p.Subnet == "" || len(p.Members) == 0 || len(p.Members) > 200 {
		return nil, fmt.Errorf("%w: want a prefix, a subnet and 1-200 members", ErrIP)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: not running as root (uid %d)", ErrUnsupported, os.Geteuid())
	}
	n := &Net{p: p, hub: p.Prefix + "-hub", members: map[string]int{}}
	for i, m := range p.Members {
		if !validName(m) {
			return nil, fmt.Errorf("%w: member name %q: want 1-8 of a-z 0-9", ErrIP, m)
		}
		if _, dup := n.members[m]; dup {
			return nil, fmt.Errorf("%w: duplicate member %q", ErrIP, m)
		}
		n.members[m] = i
	}
	if err := n.build(ctx); err != nil {
		return nil, errors.Join(err, n.Close())
	}
	return n, nil
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 8 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func (n *Net) build(ctx context.Context) error {
	if err := n.addNS(ctx, n.hub); err != nil {
		return err
	}
	steps := [][]string{
		{"-n", n.hub, "link", "set", "lo", "up"},
		{"-n", n.hub, "link", "add", "br0", "type", "bridge"},
		{"-n", n.hub, "link", "set", "br0", "up"},
	}
	for _, m := range n.p.Members {
		ns := n.NS(m)
		if err := n.addNS(ctx, ns); err != nil {
			return err
		}
		addr := n.Addr(m) + "/24"
		steps = append(steps,
			[]string{"-n", ns, "link", "set", "lo", "up"},
			[]string{"-n", n.hub, "link", "add", hubEnd(m), "type", "veth", "peer", "name", "eth0", "netns", ns},
			[]string{"-n", n.hub, "link", "set", hubEnd(m), "master", "br0"},
			[]string{"-n", n.hub, "link", "set", hubEnd(m), "up"},
			[]string{"-n", ns, "addr", "add", addr, "dev", "eth0"},
			[]string{"-n", ns, "link", "set", "eth0", "up"},
		)
	}
	for _, s := range steps {
		if err := n.ip(ctx, s...); err != nil {
			return err
		}
	}
	return nil
}

func (n *Net) addNS(ctx context.Context, ns string) error {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, n.p.IP, "netns", "add", ns).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if strings.Contains(msg, "Operation not permitted") || strings.Contains(msg, "Permission denied") {
			return fmt.Errorf("%w: ip netns add %s: %s", ErrUnsupported, ns, msg)
		}
		return fmt.Errorf("%w: ip netns add %s: %v: %s", ErrIP, ns, err, msg)
	}
	n.created = append(n.created, ns)
	return nil
}

func (n *Net) ip(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, n.p.IP, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%w: ip %s: %v: %s", ErrIP, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// hubEnd names a member's veth end inside the hub (at most 15 bytes).
func hubEnd(member string) string { return "v-" + member }

// NS is the namespace name of a member.
func (n *Net) NS(member string) string { return n.p.Prefix + "-" + member }

// Addr is a member's IPv4 address.
func (n *Net) Addr(member string) string {
	return fmt.Sprintf("%s.%d", n.p.Subnet, 10+n.members[member])
}

// Command returns a command that runs name inside member's namespace. It
// is killed with SIGKILL should the test process die.
func (n *Net) Command(ctx context.Context, member, name string, args ...string) (*exec.Cmd, error) {
	if _, ok := n.members[member]; !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownMember, member)
	}
	cmd := exec.CommandContext(ctx, n.p.IP, append([]string{"netns", "exec", n.NS(member), name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd, nil
}

// Get fetches url with curl from inside member's namespace and returns the
// body; a non-2xx status is an error.
func (n *Net) Get(ctx context.Context, member, url string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Second)
	defer cancel()
	secs := fmt.Sprintf("%.3f", timeout.Seconds())
	cmd, err := n.Command(ctx, member, "curl", "-sS", "--fail", "--noproxy", "*", "--max-time", secs, url)
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: curl %s in %s: %v: %s", ErrIP, url, member, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// Cut takes member's link to the bridge down: from then on it reaches no
// other member (its own address still answers inside its namespace).
func (n *Net) Cut(ctx context.Context, member string) error {
	if _, ok := n.members[member]; !ok {
		return fmt.Errorf("%w: %q", ErrUnknownMember, member)
	}
	return n.ip(ctx, "-n", n.hub, "link", "set", hubEnd(member), "down")
}

// Restore brings a cut link up again.
func (n *Net) Restore(ctx context.Context, member string) error {
	if _, ok := n.members[member]; !ok {
		return fmt.Errorf("%w: %q", ErrUnknownMember, member)
	}
	return n.ip(ctx, "-n", n.hub, "link", "set", hubEnd(member), "up")
}

// Close deletes every namespace New created (which removes their links).
// Processes still running inside them keep their namespace alive until
// they exit, so stop them first.
func (n *Net) Close() error {
	var errs []error
	for i := len(n.created) - 1; i >= 0; i-- {
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		out, err := exec.CommandContext(ctx, n.p.IP, "netns", "del", n.created[i]).CombinedOutput()
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: ip netns del %s: %v: %s", ErrIP, n.created[i], err, strings.TrimSpace(string(out))))
		}
	}
	n.created = nil
	return errors.Join(errs...)
}
