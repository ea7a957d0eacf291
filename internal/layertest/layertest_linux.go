//go:build linux

package layertest

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-keepalive/keepalive/internal/tcpinfo"
	"github.com/go-keepalive/keepalive/keepalivetest"
)

// Main runs the tests of m. Detection tests wait for timers, not for a CPU,
// so they run 16 at a time unless -test.parallel says otherwise; at the end
// Main prints every detection measured, as a table of ratios to the budget.
func Main(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "16")
	}
	code := m.Run()
	measured.Lock()
	rows := append([]string(nil), measured.rows...)
	measured.Unlock()
	if len(rows) > 0 {
		sort.Strings(rows)
		fmt.Printf("dead-peer detection against the budget, measured:\n%s\n", strings.Join(rows, "\n"))
	}
	os.Exit(code)
}

// Isolate marks t parallel and makes sure it runs where sockets can be
// black-holed: as root directly, else in a user and network namespace of its
// own. It reports whether the caller must return at once because the test
// already ran in the namespace.
func Isolate(t *testing.T) bool {
	t.Helper()
	t.Parallel()
	return keepalivetest.RunIsolated(t)
}

// Conns collects the TCP connections a library dials or accepts, in order.
type Conns struct {
	ch chan *net.TCPConn
}

// NewConns returns an empty collector.
func NewConns() *Conns { return &Conns{ch: make(chan *net.TCPConn, 64)} }

// Listener wraps l so that every connection it accepts is collected.
func (c *Conns) Listener(l net.Listener) net.Listener { return &listener{l, c} }

type listener struct {
	net.Listener
	c *Conns
}

func (l *listener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err == nil {
		l.c.add(conn)
	}
	return conn, err
}

// Dial wraps dial so that every connection it returns is collected.
func (c *Conns) Dial(dial func(ctx context.Context, network, address string) (net.Conn, error)) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		conn, err := dial(ctx, network, address)
		if err == nil {
			c.add(conn)
		}
		return conn, err
	}
}

func (c *Conns) add(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		c.ch <- tc
	}
}

// Next returns the next connection collected, waiting up to 5 s for it.
func (c *Conns) Next(t testing.TB) *net.TCPConn {
	t.Helper()
	select {
	case conn := <-c.ch:
		return conn
	case <-time.After(5 * time.Second):
		t.Fatal("layertest: no connection was dialed or accepted within 5s")
		return nil
	}
}

// Partition cuts a from b: from now on each socket silently drops whatever
// it receives, so each end hears nothing more from the other, as when the
// network between them fails or the peer loses power. It returns the time of
// the cut, which detection times are measured from.
//
// It first waits until neither socket has unacknowledged data (ACKs may be
// delayed by up to 40 ms on Linux): data left in flight would start the
// retransmission timer and TCP_USER_TIMEOUT instead of the idle schedule that
// keepalive probes and pings follow.
func Partition(t testing.TB, a, b *net.TCPConn) time.Time {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		ua, ub := unacked(t, a), unacked(t, b)
		if ua == 0 && ub == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("layertest: data still unacknowledged after 2s (%d and %d segments): cannot start from idle", ua, ub)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, c := range []*net.TCPConn{a, b} {
		if err := keepalivetest.Vanish(c); err != nil {
			t.Fatalf("layertest: %v", err)
		}
	}
	return time.Now()
}

func unacked(t testing.TB, c *net.TCPConn) uint32 {
	t.Helper()
	info, err := tcpinfo.Get(c)
	if err != nil {
		t.Fatalf("layertest: TCP_INFO: %v", err)
	}
	return info.Unacked
}

// Event is what one end noticed, and when: a failed Read, a cancelled
// request context, a closed stream.
type Event struct {
	At  time.Time
	Err error // what the end saw, if it says anything
}

// Notice sends an Event with err, stamped now, on c.
func Notice(c chan<- Event, err error) { c <- Event{At: time.Now(), Err: err} }

// Detected is one end's detection of a partition.
type Detected struct {
	After time.Duration // from the partition until the end noticed
	Err   error         // what the end saw, if it says anything
}

// Wait returns the first Event on c as a detection of the partition made
// at start, or fails t if none arrives within limit of start.
func Wait(t testing.TB, what string, c <-chan Event, start time.Time, limit time.Duration) Detected {
	t.Helper()
	select {
	case e := <-c:
		return Detected{After: e.At.Sub(start), Err: e.Err}
	case <-time.After(time.Until(start.Add(limit))):
		t.Fatalf("layertest: %s: not detected within %v", what, limit)
		return Detected{}
	}
}

// Within checks that the detection took between least and budget*slack
// (slack > 1 allows for timer slack and the wake-up of the goroutine that
// noticed) and records it for the report Main prints. least is how long the
// detecting layer must wait at the very least: detection before it means
// something else closed the connection.
func Within(t testing.TB, name string, d Detected, least, budget time.Duration, slack float64) {
	t.Helper()
	ratio := float64(d.After) / float64(budget)
	line := fmt.Sprintf("%-55s %5.2fs, budget %v, ratio %.2f", name, d.After.Seconds(), budget, ratio)
	t.Log(line)
	measured.Lock()
	measured.rows = append(measured.rows, line)
	measured.Unlock()
	if d.After < least {
		t.Errorf("%s: detected after %v, before the %v the layer waits at least (error: %v)", name, d.After, least, d.Err)
	}
	if ratio > slack {
		t.Errorf("%s: detected after %v, %.2f times the %v budget (at most %.2f allowed)", name, d.After, ratio, budget, slack)
	}
}

var measured struct {
	sync.Mutex
	rows []string
}
