package heartbeat

import (
	"bytes"
	"errors"
	"io"
	"log"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// panicConn panics in the methods named in its fields.
type panicConn struct {
	halfConn
	inClose, inCloseWrite bool
}

var errBoom = errors.New("boom")

func (c *panicConn) Close() error {
	c.closes.Add(1)
	if c.inClose {
		panic(errBoom)
	}
	return nil
}

func (c *panicConn) CloseWrite() error {
	c.closeWrites.Add(1)
	if c.inCloseWrite {
		panic("CloseWrite exploded")
	}
	return nil
}

type panicReport struct {
	key int
	c   io.Closer
	err *PanicError
}

type panicLog struct {
	mu  sync.Mutex
	all []panicReport
}

func (l *panicLog) onPanic(key int, c io.Closer, err *PanicError) {
	l.mu.Lock()
	l.all = append(l.all, panicReport{key, c, err})
	l.mu.Unlock()
}

func (l *panicLog) ops() map[int]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ops := map[int]string{}
	for _, r := range l.all {
		ops[r.key] += r.err.Op
	}
	return ops
}

// TestPanicsOnExpiry: a connection whose Close or CloseWrite panics, and
// an OnEvict that panics for one key, do not stop expiry of the others;
// each panic is reported once, with what panicked, and OnEvict is still
// called once per connection.
func TestPanicsOnExpiry(t *testing.T) {
	noLeaks(t)
	for _, grace := range []time.Duration{0, time.Hour} {
		var panics panicLog
		rec := newRecorder[int]()
		m := manual(t, MonitorConfig[int]{
			Grace:   grace,
			OnPanic: panics.onPanic,
			OnEvict: func(key int, c io.Closer, r Reason) {
				rec.onEvict(key, c, r)
				if key == 4 {
					panic("OnEvict exploded")
				}
			},
		})
		closing := &panicConn{inClose: true}
		halfClosing := &panicConn{inCloseWrite: true}
		conns := []*panicConn{{}, closing, halfClosing, {}, {}, {}}
		for k, c := range conns {
			require.NoError(t, m.Track(k, c))
		}
		require.NotPanics(t, func() { m.tick(9) })
		if grace > 0 {
			// Those whose CloseWrite worked wait for their grace period;
			// the one whose CloseWrite panicked is closed at once.
			assert.Equal(t, []int{2}, rec.keys())
			assert.Equal(t, map[int]string{2: "CloseWrite"}, panics.ops())
			require.NotPanics(t, func() { require.NoError(t, m.Close()) })
		}
		assert.ElementsMatch(t, []int{0, 1, 2, 3, 4, 5}, rec.keys(), "grace %v", grace)
		for k, c := range conns {
			assert.Equal(t, int32(1), c.closes.Load(), "key %d closed once", k)
		}
		for _, ev := range rec.all() {
			assert.Equal(t, TimedOut, ev.reason)
		}
		want := map[int]string{1: "Close", 4: "OnEvict"}
		if grace > 0 {
			want[2] = "CloseWrite"
		}
		assert.Equal(t, want, panics.ops())
		for _, r := range panics.all {
			assert.Same(t, conns[r.key], r.c)
			assert.Contains(t, string(r.err.Stack), "panic_test.go", "the stack of the panic")
			if r.err.Op == "Close" {
				assert.ErrorIs(t, r.err, errBoom)
				assert.Equal(t, "heartbeat: panic in Close: boom", r.err.Error())
			}
		}
		assert.Zero(t, m.Len())
	}
}

// TestPanicsElsewhere: replacing a connection whose Close panics, and
// Remove and Close with an OnEvict that panics, finish their work.
func TestPanicsElsewhere(t *testing.T) {
	noLeaks(t)
	var panics panicLog
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{
		OnPanic: panics.onPanic,
		OnEvict: func(key int, c io.Closer, r Reason) {
			rec.onEvict(key, c, r)
			if r == Removed {
				panic("OnEvict exploded")
			}
		},
	})
	old := &panicConn{inClose: true}
	require.NoError(t, m.Track(1, old))
	cur := &fakeConn{}
	require.NotPanics(t, func() { require.NoError(t, m.Track(1, cur)) })
	assert.Equal(t, int32(1), old.closes.Load())
	assert.True(t, m.Touch(1), "the new connection is tracked")

	require.NoError(t, m.Track(2, &fakeConn{}))
	require.NoError(t, m.Track(3, &fakeConn{}))
	require.NotPanics(t, func() { assert.True(t, m.Remove(2, m.trackedConn(2))) })
	require.NotPanics(t, func() { require.NoError(t, m.Close()) })
	assert.Zero(t, m.Len(), "Close drained every shard")
	assert.ElementsMatch(t, []int{1, 1, 2, 3}, rec.keys())
	assert.Len(t, panics.all, 4, "Close of the replaced one, OnEvict of the three removed")
}

// trackedConn returns the connection tracked under key.
func (m *Monitor[K]) trackedConn(key K) io.Closer {
	h := hashOf(m, key)
	sh := m.shardOf(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	_, i := sh.find(key, h)
	return sh.at(i).conn
}

// TestPanicLogged: without OnPanic, a panic is logged with its stack.
func TestPanicLogged(t *testing.T) {
	noLeaks(t)
	var buf bytes.Buffer
	defer log.SetOutput(log.Writer())
	log.SetOutput(&buf)
	m := manual(t, MonitorConfig[int]{})
	require.NoError(t, m.Track(7, &panicConn{inClose: true}))
	require.NotPanics(t, func() { m.tick(9) })
	out := buf.String()
	assert.Contains(t, out, "heartbeat: panic in Close: boom (key 7, connection *heartbeat.panicConn)")
	assert.Contains(t, out, "panic_test.go")

	// A panicking OnPanic is logged too.
	buf.Reset()
	m = manual(t, MonitorConfig[int]{OnPanic: func(int, io.Closer, *PanicError) { panic("again") }})
	require.NoError(t, m.Track(8, &panicConn{inClose: true}))
	require.NotPanics(t, func() { m.tick(9) })
	assert.Contains(t, buf.String(), "heartbeat: panic in OnPanic: again (key 8")
}

// TestPanicOnMonitorGoroutine runs a panicking Close on the Monitor's own
// goroutine, where nobody else could recover it: the process survives
// and the other connections still expire.
func TestPanicOnMonitorGoroutine(t *testing.T) {
	noLeaks(t)
	var panics panicLog
	rec := newRecorder[int]()
	m, err := NewMonitor(MonitorConfig[int]{
		IdleTimeout: 20 * time.Millisecond, Tick: 5 * time.Millisecond,
		OnPanic: panics.onPanic, OnEvict: rec.onEvict,
	})
	require.NoError(t, err)
	defer m.Close()
	require.NoError(t, m.Track(0, &panicConn{inClose: true}))
	time.Sleep(5 * time.Millisecond)
	require.NoError(t, m.Track(1, &fakeConn{}))
	seen := map[int]bool{}
	for range 2 {
		ev := rec.wait(t, 10*time.Second)
		seen[ev.key] = true
	}
	assert.Equal(t, map[int]bool{0: true, 1: true}, seen)
	assert.Equal(t, map[int]string{0: "Close"}, panics.ops())
}
