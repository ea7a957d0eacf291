package heartbeat

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			c = nil
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	s := <-accepted
	require.NotNil(t, s)
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

func TestConnReadTouches(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{OnEvict: rec.onEvict})
	raw := &readConn{}
	c, err := m.TrackConn(1, raw)
	require.NoError(t, err)
	assert.Equal(t, 1, m.Len())
	nc, ok := c.(interface{ NetConn() net.Conn })
	require.True(t, ok)
	assert.Same(t, raw, nc.NetConn())

	m.tick(5)
	n, err := c.Read(make([]byte, 8))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	m.tick(13)
	assert.Empty(t, rec.all(), "the read at epoch 5 refreshed the connection")
	n, err = c.Read(nil) // no data: no activity
	require.NoError(t, err)
	require.Zero(t, n)
	m.tick(14)
	evs := rec.all()
	require.Len(t, evs, 1)
	assert.Same(t, c, evs[0].c, "the Monitor tracks the wrapper")
	assert.Equal(t, TimedOut, evs[0].reason)
	assert.Equal(t, int32(1), raw.closes.Load())
}

func TestConnReadAllocs(t *testing.T) {
	noLeaks(t)
	m := manual(t, MonitorConfig[int]{})
	c, err := m.TrackConn(1, &readConn{})
	require.NoError(t, err)
	buf := make([]byte, 1)
	var e uint32
	allocs := testing.AllocsPerRun(1000, func() {
		e++
		m.now.Store(e) // force the locked path every other read
		_, _ = c.Read(buf)
		_, _ = c.Read(buf)
	})
	assert.Zero(t, allocs)
}

func TestConnClose(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[string]()
	m := manual(t, MonitorConfig[string]{OnEvict: rec.onEvict})
	raw := &readConn{}
	c, err := m.TrackConn("a", raw)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	assert.Equal(t, int32(2), raw.closes.Load(), "Close is passed through")
	evs := rec.all()
	require.Len(t, evs, 1, "removed once")
	assert.Equal(t, Removed, evs[0].reason)
	assert.Same(t, c, evs[0].c)
	assert.Zero(t, m.Len())
	m.tick(100)
	assert.Len(t, rec.all(), 1)
}

func TestConnReplacedDoesNotTouchSuccessor(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{OnEvict: rec.onEvict, Grace: time.Hour})
	raw := &readConn{}
	old, err := m.TrackConn(1, raw)
	require.NoError(t, err)
	m.tick(9) // old times out and enters its grace period
	assert.Equal(t, int32(1), raw.closeWrites.Load())
	assert.Zero(t, raw.closes.Load())
	assert.Zero(t, m.Len())

	next := &fakeConn{}
	require.NoError(t, m.Track(1, next)) // the client reconnected
	for e := uint32(10); e < 18; e++ {
		m.tick(e)
		_, err := old.Read(make([]byte, 1)) // in-flight data on the old one
		require.NoError(t, err)
	}
	m.tick(18)
	evs := rec.all()
	require.Len(t, evs, 1, "reads on the old connection did not refresh the new one")
	assert.Same(t, next, evs[0].c)
	assert.Zero(t, raw.closes.Load(), "still in grace")
	require.NoError(t, m.Close())
	assert.Equal(t, int32(1), raw.closes.Load())
	assert.Len(t, rec.all(), 2)
}

func TestConnCloseWriteUnsupported(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{OnEvict: rec.onEvict, Grace: time.Hour})
	a, b := net.Pipe()
	defer b.Close()
	c, err := m.TrackConn(1, a)
	require.NoError(t, err)
	err = c.(interface{ CloseWrite() error }).CloseWrite()
	assert.ErrorIs(t, err, errors.ErrUnsupported)
	m.tick(9)
	require.Len(t, rec.all(), 1, "closed at once without CloseWrite")
	_, err = a.Write([]byte("x"))
	assert.ErrorIs(t, err, io.ErrClosedPipe)
	assertNoGraceMarks(t, m)
}

// TestGraceHalfClose runs the late-client scenario over real TCP: the
// server side times out, half-closes, still reads what the client sends
// during the grace period, and only then closes.
func TestGraceHalfClose(t *testing.T) {
	noLeaks(t)
	const timeout, grace = 50 * time.Millisecond, 300 * time.Millisecond
	rec := newRecorder[string]()
	m, err := NewMonitor(MonitorConfig[string]{
		IdleTimeout: timeout, Tick: 10 * time.Millisecond, Grace: grace, OnEvict: rec.onEvict,
	})
	require.NoError(t, err)
	defer m.Close()

	// Bounds are taken from before tracking began, the earliest moment
	// the Monitor may count from, so they hold without clock slack.
	client, raw := tcpPair(t)
	start := time.Now()
	server, err := m.TrackConn("late-client", raw)
	require.NoError(t, err)

	type result struct {
		data  []byte
		err   error
		endAt time.Time
	}
	served := make(chan result, 1)
	go func() {
		data, err := io.ReadAll(server)
		served <- result{data, err, time.Now()}
	}()

	// The client is slow: it has not sent anything yet. The server gives
	// up and sends FIN.
	require.NoError(t, client.SetReadDeadline(time.Now().Add(10*time.Second)))
	n, err := client.Read(make([]byte, 1))
	require.Equal(t, io.EOF, err, "client sees the half-close")
	require.Zero(t, n)
	eofAt := time.Now()
	assert.GreaterOrEqual(t, eofAt.Sub(start), timeout)
	assert.Zero(t, m.Len(), "no longer tracked during grace")
	assert.Empty(t, rec.all(), "OnEvict runs after the final close")

	// Data the late client sends now is still delivered.
	_, err = client.Write([]byte("late heartbeat"))
	require.NoError(t, err)

	ev := rec.wait(t, 10*time.Second)
	assert.Equal(t, TimedOut, ev.reason)
	assert.Same(t, server, ev.c)
	assert.GreaterOrEqual(t, ev.at.Sub(start), timeout+grace)

	res := <-served
	assert.Equal(t, "late heartbeat", string(res.data))
	assert.ErrorIs(t, res.err, net.ErrClosed, "the final close ends the server's read")
	assert.GreaterOrEqual(t, res.endAt.Sub(start), timeout+grace)
}

func TestPingerConnReceived(t *testing.T) {
	noLeaks(t)
	p, err := NewPinger(PingerConfig{Idle: time.Hour, Interval: time.Hour, Count: 1,
		Ping: func(context.Context) error { return nil }})
	require.NoError(t, err)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c, err := p.Wrap(a)
	require.NoError(t, err)
	assert.Same(t, a, c.(interface{ NetConn() net.Conn }).NetConn())
	assert.ErrorIs(t, c.(interface{ CloseWrite() error }).CloseWrite(), errors.ErrUnsupported)

	// A coarse clock may read the same before and after, so start from
	// a time the clock can never show.
	p.last.Store(-1)
	go func() { _, _ = b.Write([]byte("x")) }()
	n, err := c.Read(make([]byte, 1))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.GreaterOrEqual(t, p.last.Load(), int64(0), "the read counted as traffic")
}

// TestConnSameConnTwice: wrapping the connection already tracked under
// the key again refreshes it and hands back the same wrapper; it closes
// nothing.
func TestConnSameConnTwice(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{OnEvict: rec.onEvict})
	raw := &readConn{}
	first, err := m.TrackConn(1, raw)
	require.NoError(t, err)
	m.tick(5)
	second, err := m.TrackConn(1, raw)
	require.NoError(t, err)
	assert.Same(t, first, second, "the existing wrapper")
	assert.Zero(t, raw.closes.Load(), "nothing closed")
	assert.Empty(t, rec.all(), "no replacement")
	assert.Equal(t, 1, m.Len())
	m.tick(13)
	assert.Empty(t, rec.all(), "the second Conn refreshed the key")
	n, err := second.Read(make([]byte, 1))
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// Another connection under the key still replaces it; then the
	// first wrapper's Close leaves the new one alone.
	other := &readConn{}
	third, err := m.TrackConn(1, other)
	require.NoError(t, err)
	assert.NotSame(t, first, third)
	assert.Equal(t, int32(1), raw.closes.Load())
	require.NoError(t, first.Close())
	assert.Equal(t, 1, m.Len())
	evs := rec.all()
	require.Len(t, evs, 1)
	assert.Equal(t, Replaced, evs[0].reason)
	assert.Same(t, first, evs[0].c)
}

// TestPingerWrapNil: a nil connection, typed or not, is refused at Wrap
// instead of panicking at the first Read.
func TestPingerWrapNil(t *testing.T) {
	noLeaks(t)
	p, err := NewPinger(PingerConfig{Idle: time.Hour, Interval: time.Hour, Count: 1,
		Ping: func(context.Context) error { return nil }})
	require.NoError(t, err)
	var tcp *net.TCPConn
	for name, c := range map[string]net.Conn{"nil": nil, "typed nil": tcp} {
		w, err := p.Wrap(c)
		assert.ErrorIs(t, err, ErrNilConn, name)
		assert.Nil(t, w, name)
	}
}

// readable fails t unless server, a real TCP connection or a wrapper of
// one, is still open: a byte the client sends arrives through it.
func readable(t *testing.T, client, server net.Conn) {
	t.Helper()
	_, err := client.Write([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, server.SetReadDeadline(time.Now().Add(10*time.Second)))
	n, err := server.Read(make([]byte, 1))
	require.NoError(t, err, "the socket is still open")
	require.Equal(t, 1, n)
}

// TestTrackThenTrackConnSameConn: wrapping a connection that Track
// already tracks under the key is a refresh: the socket stays open, no
// OnEvict, and the wrapper takes over (its reads refresh the key; Remove
// of the raw connection still matches).
func TestTrackThenTrackConnSameConn(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{OnEvict: rec.onEvict})
	client, raw := tcpPair(t)
	require.NoError(t, m.Track(1, raw))
	m.tick(5)
	w, err := m.TrackConn(1, raw)
	require.NoError(t, err)
	assert.Empty(t, rec.all(), "no replacement")
	assert.Equal(t, 1, m.Len())
	readable(t, client, w)
	m.tick(13) // the read at epoch 5 refreshed the key; so did TrackConn
	assert.Empty(t, rec.all())
	again, err := m.TrackConn(1, raw)
	require.NoError(t, err)
	assert.Same(t, w, again, "the wrapper now tracked")
	require.NoError(t, m.Track(1, raw))
	assert.Empty(t, rec.all())

	assert.True(t, m.Remove(1, raw), "the raw connection matches its wrapper")
	evs := rec.all()
	require.Len(t, evs, 1)
	assert.Equal(t, Removed, evs[0].reason)
	assert.Same(t, w, evs[0].c, "OnEvict gets the wrapper, once")
	readable(t, client, w)
	require.NoError(t, w.Close())
	assert.Len(t, rec.all(), 1, "already removed")
}

// TestTrackConnThenTrackSameConn: tracking with Track the connection that
// TrackConn's wrapper wraps (or the wrapper itself) is a refresh: the
// socket stays open and the wrapper stays the one tracked.
func TestTrackConnThenTrackSameConn(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{OnEvict: rec.onEvict})
	client, raw := tcpPair(t)
	w, err := m.TrackConn(1, raw)
	require.NoError(t, err)
	m.tick(5)
	require.NoError(t, m.Track(1, raw))
	require.NoError(t, m.Track(1, w))
	again, err := m.TrackConn(1, w)
	require.NoError(t, err)
	assert.Same(t, w, again)
	assert.Empty(t, rec.all(), "no replacement")
	assert.Equal(t, 1, m.Len())
	readable(t, client, w)
	m.tick(13) // refreshed at epoch 5
	assert.Empty(t, rec.all())
	m.tick(14) // last activity at epoch 5 (the read)
	evs := rec.all()
	require.Len(t, evs, 1)
	assert.Equal(t, TimedOut, evs[0].reason)
	assert.Same(t, w, evs[0].c)
	_, err = raw.Write([]byte("x"))
	assert.ErrorIs(t, err, net.ErrClosed, "closed by the timeout, not before")
}

// TestTrackStaleWrapper: Track of a TrackConn wrapper that is no longer
// tracked is refused, since the wrapper's reads and Close could not act
// on a new tracking; TrackConn of the connection it wraps works.
func TestTrackStaleWrapper(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	// One shard, so that another key takes the removed entry's place.
	m := manual(t, MonitorConfig[int]{Shards: 1, OnEvict: rec.onEvict})
	client, raw := tcpPair(t)
	w, err := m.TrackConn(1, raw)
	require.NoError(t, err)
	require.True(t, m.Remove(1, w))
	other := &fakeConn{}
	require.NoError(t, m.Track(2, other))

	assert.ErrorIs(t, m.Track(1, w), ErrStaleWrapper)
	assert.ErrorIs(t, m.Track(2, w), ErrStaleWrapper, "another connection's key")
	assert.ErrorIs(t, m.Track(3, w), ErrStaleWrapper, "a new key")
	assert.Equal(t, 1, m.Len())
	assert.Zero(t, other.closes.Load(), "key 2 is not replaced")

	w2, err := m.TrackConn(1, raw)
	require.NoError(t, err)
	require.NoError(t, m.Track(1, w2), "a tracked wrapper is refreshed")
	assert.ErrorIs(t, m.Track(4, w2), ErrStaleWrapper, "a tracked wrapper under another key")
	m.tick(5)
	requireDelivered(t, client, w2, "x") // activity at epoch 5
	require.True(t, m.Touch(2))
	m.tick(13)
	assert.Equal(t, []int{1}, rec.keys(), "only the Remove so far")
	require.NoError(t, w2.Close())
	evs := rec.all()
	require.Len(t, evs, 2)
	assert.Equal(t, Removed, evs[1].reason)
	assert.Same(t, w2, evs[1].c)
	assert.Equal(t, 1, m.Len(), "key 2 only")
}
