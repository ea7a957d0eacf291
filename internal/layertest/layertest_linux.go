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

	"golang.org/x/sys/unix"

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

// Cut is a partition made by [Partition].
type Cut struct {
	At    time.Time                      // when the cut was made
	quiet map[*net.TCPConn]time.Duration // per end: how long it had heard nothing from the other then
}

// Partition cuts a from b: from now on each socket silently drops whatever
// it receives, so each end hears nothing more from the other, as when the
// network between them fails or the peer loses power. Detection times are
// measured from the cut.
//
// It first waits until neither end has sent data for settle and neither
// has unacknowledged data (ACKs may be delayed by up to 40 ms on Linux):
// data in flight at the cut would start the retransmission timer and
// TCP_USER_TIMEOUT (gRPC sets one) instead of the idle schedule that
// keepalive probes and pings follow, and the libraries send frames of
// their own for a while after a request (window updates, BDP pings). It
// also notes how long before the cut each end last heard from the other,
// data or ACK (TCP_INFO): the schedules, and the budgets, count from then.
func Partition(t testing.TB, a, b *net.TCPConn) Cut {
	t.Helper()
	const settle = 200 * time.Millisecond
	deadline := time.Now().Add(5 * time.Second)
	for {
		ia, ib := info(t, a), info(t, b)
		quiet := time.Duration(min(ia.Last_data_sent, ib.Last_data_sent)) * time.Millisecond
		if ia.Unacked == 0 && ib.Unacked == 0 && quiet >= settle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("layertest: the connection did not settle within 5s (unacknowledged segments %d and %d, quiet for %v): cannot start from idle", ia.Unacked, ib.Unacked, quiet)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cut := Cut{quiet: map[*net.TCPConn]time.Duration{}}
	for _, c := range []*net.TCPConn{a, b} {
		if err := keepalivetest.Vanish(c); err != nil {
			t.Fatalf("layertest: %v", err)
		}
		// In milliseconds, rounded down: the quiet is at least this.
		i := info(t, c)
		cut.quiet[c] = time.Duration(min(i.Last_data_recv, i.Last_ack_recv)) * time.Millisecond
	}
	cut.At = time.Now()
	return cut
}

// Wait returns the first Event on c as end's detection of the cut, or fails
// t if none arrives within limit of the cut.
func (cut Cut) Wait(t testing.TB, what string, end *net.TCPConn, c <-chan Event, limit time.Duration) Detected {
	t.Helper()
	d := Wait(t, what, c, cut.At, limit)
	d.Quiet = cut.quiet[end]
	return d
}

func info(t testing.TB, c *net.TCPConn) *unix.TCPInfo {
	t.Helper()
	info, err := tcpinfo.Get(c)
	if err != nil {
		t.Fatalf("layertest: TCP_INFO: %v", err)
	}
	return info
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
	Quiet time.Duration // how long before the partition the end had last heard from the other
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

// Within checks how long the end took to notice since it last heard from
// its peer (d.Quiet before the partition, then d.After): at least least,
// the time the detecting layer must wait (sooner means something else
// closed the connection), and at most budget*slack (slack > 1 allows for
// timer slack and the wake-up of the goroutine that noticed). It records
// the detection for the report Main prints, as a ratio to the budget.
func Within(t testing.TB, name string, d Detected, least, budget time.Duration, slack float64) {
	t.Helper()
	since := d.Quiet + d.After
	ratio := float64(since) / float64(budget)
	line := fmt.Sprintf("%-55s %5.2fs (%5.2fs after the cut), budget %v, ratio %.2f", name, since.Seconds(), d.After.Seconds(), budget, ratio)
	t.Log(line)
	measured.Lock()
	measured.rows = append(measured.rows, line)
	measured.Unlock()
	if since < least {
		t.Errorf("%s: detected %v after the peer was last heard from, before the %v the layer waits at least (error: %v)", name, since, least, d.Err)
	}
	if ratio > slack {
		t.Errorf("%s: detected %v after the peer was last heard from, %.2f times the %v budget (at most %.2f allowed)", name, since, ratio, budget, slack)
	}
}

var measured struct {
	sync.Mutex
	rows []string
}
