package heartbeat

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// noLeaks fails t if a goroutine is still running once t's other
// cleanups have run (a Monitor's goroutine not stopped by Close, a Run
// that did not return, a helper goroutine of the test), using goleak,
// which waits a little for goroutines that are on their way out. Call it
// first in a test; tests using it must not run in parallel.
func noLeaks(t *testing.T) {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

// fakeConn counts Close calls.
type fakeConn struct {
	id     int
	closes atomic.Int32
}

func (c *fakeConn) Close() error { c.closes.Add(1); return nil }

// halfConn is a fakeConn that also supports CloseWrite.
type halfConn struct {
	fakeConn
	closeWrites atomic.Int32
}

func (c *halfConn) CloseWrite() error { c.closeWrites.Add(1); return nil }

// readConn is a net.Conn whose Read always returns one byte and which
// records Close and CloseWrite. Other methods are not implemented.
type readConn struct {
	net.Conn
	closes      atomic.Int32
	closeWrites atomic.Int32
}

func (c *readConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	b[0] = 'x'
	return 1, nil
}
func (c *readConn) Close() error      { c.closes.Add(1); return nil }
func (c *readConn) CloseWrite() error { c.closeWrites.Add(1); return nil }

type eviction[K comparable] struct {
	key    K
	c      io.Closer
	reason Reason
	at     time.Time
}

// recorder collects OnEvict calls.
type recorder[K comparable] struct {
	mu  sync.Mutex
	evs []eviction[K]
	ch  chan eviction[K]
}

func newRecorder[K comparable]() *recorder[K] {
	return &recorder[K]{ch: make(chan eviction[K], 1<<16)}
}

func (r *recorder[K]) onEvict(key K, c io.Closer, reason Reason) {
	ev := eviction[K]{key, c, reason, time.Now()}
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	select {
	case r.ch <- ev:
	default:
	}
}

func (r *recorder[K]) all() []eviction[K] {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]eviction[K](nil), r.evs...)
}

func (r *recorder[K]) keys() []K {
	var ks []K
	for _, ev := range r.all() {
		ks = append(ks, ev.key)
	}
	return ks
}

func (r *recorder[K]) wait(t *testing.T, timeout time.Duration) eviction[K] {
	t.Helper()
	select {
	case ev := <-r.ch:
		return ev
	case <-time.After(timeout):
		t.Fatalf("no eviction within %v", timeout)
		return eviction[K]{}
	}
}

// manual returns a Monitor whose clock only moves when the test calls
// tick. By default IdleTimeout is 80ms and Tick 20ms, so epochs last 10ms and
// an entry active in epoch s expires at tick s+9.
func manual[K comparable](t *testing.T, cfg MonitorConfig[K]) *Monitor[K] {
	t.Helper()
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout, cfg.Tick = 80*time.Millisecond, 20*time.Millisecond
	}
	m, err := newMonitor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// tick moves the clock of a Monitor built by manual to the start of
// epoch e, one regular tick per epoch, and runs expiry.
func (m *Monitor[K]) tick(e uint32) {
	for {
		vt := time.Duration(min(m.cur+1, e)) * m.res
		m.clock = func() time.Duration { return vt }
		m.advance()
		if m.cur >= e {
			return
		}
	}
}
