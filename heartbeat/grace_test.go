package heartbeat

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The grace period used with manual (epochs of 10ms): a connection
// tracked at epoch 0 times out at tick 9 and is closed at tick 14.
const testGrace = 50 * time.Millisecond

// requireHalfClosed checks that the peer of server sees end of file: the
// Monitor really half-closed server.
func requireHalfClosed(t *testing.T, client *net.TCPConn) {
	t.Helper()
	require.NoError(t, client.SetReadDeadline(time.Now().Add(10*time.Second)))
	n, err := client.Read(make([]byte, 1))
	require.Zero(t, n)
	require.Equal(t, io.EOF, err, "the peer sees the half-close")
	require.NoError(t, client.SetReadDeadline(time.Time{}))
}

// requireDelivered sends msg from one end and reads it at the other.
func requireDelivered(t *testing.T, from, to net.Conn, msg string) {
	t.Helper()
	_, err := from.Write([]byte(msg))
	require.NoError(t, err)
	buf := make([]byte, len(msg))
	require.NoError(t, to.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = io.ReadFull(to, buf)
	require.NoError(t, err)
	require.Equal(t, msg, string(buf))
	require.NoError(t, to.SetReadDeadline(time.Time{}))
}

// assertNoGraceMarks checks that no shard still remembers a connection
// in its grace period.
func assertNoGraceMarks[K comparable](t *testing.T, m *Monitor[K]) {
	t.Helper()
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		assert.Nil(t, sh.inGrace, "shard %d", i)
		sh.mu.Unlock()
	}
}

// TestGraceRetrackRefused: tracking a connection again while it is in
// its grace period is refused, so that the pending close cannot close a
// connection that is tracked again; it is closed once, with one
// OnEvict, when the grace period ends.
func TestGraceRetrackRefused(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{Grace: testGrace, OnEvict: rec.onEvict})
	client, server := tcpPair(t)
	require.NoError(t, m.Track(1, server))
	m.tick(9)
	requireHalfClosed(t, client)

	assert.ErrorIs(t, m.Track(1, server), ErrHalfClosed)
	_, err := m.TrackConn(1, server)
	assert.ErrorIs(t, err, ErrHalfClosed)
	assert.False(t, m.Touch(1), "Touch does not revive it")
	assert.Zero(t, m.Len())
	assert.Empty(t, rec.all(), "OnEvict waits for the final close")
	requireDelivered(t, client, server, "late heartbeat")

	m.tick(13)
	assert.Empty(t, rec.all())
	m.tick(14)
	evs := rec.all()
	require.Len(t, evs, 1)
	assert.Equal(t, TimedOut, evs[0].reason)
	assert.Same(t, server, evs[0].c)
	_, err = server.Write([]byte("x"))
	assert.ErrorIs(t, err, net.ErrClosed, "closed when the grace period ended")
	assertNoGraceMarks(t, m)

	m.tick(40)
	assert.Len(t, rec.all(), 1, "nothing was left tracked to evict again")
	assert.Zero(t, m.Len())
	// Once closed it is the caller's again, like any closed connection.
	require.NoError(t, m.Track(1, server))
	assert.True(t, m.Remove(1, server))
}

// TestGraceRetrackWrapper: the same for the wrapper returned by
// TrackConn, which counts as the connection it wraps, and whose reads
// during the grace period deliver data without reviving it.
func TestGraceRetrackWrapper(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{Grace: testGrace, OnEvict: rec.onEvict})
	client, raw := tcpPair(t)
	server, err := m.TrackConn(1, raw)
	require.NoError(t, err)
	m.tick(9)
	requireHalfClosed(t, client)

	assert.ErrorIs(t, m.Track(1, server), ErrHalfClosed)
	assert.ErrorIs(t, m.Track(1, raw), ErrHalfClosed)
	_, err = m.TrackConn(1, raw)
	assert.ErrorIs(t, err, ErrHalfClosed)
	requireDelivered(t, client, server, "late heartbeat")
	assert.False(t, m.Touch(1))
	assert.Zero(t, m.Len())

	m.tick(14)
	evs := rec.all()
	require.Len(t, evs, 1, "one eviction: %v", evs)
	assert.Equal(t, TimedOut, evs[0].reason)
	assert.Same(t, server, evs[0].c)
	_, err = raw.Write([]byte("x"))
	assert.ErrorIs(t, err, net.ErrClosed)
	m.tick(40)
	assert.Len(t, rec.all(), 1)
	assertNoGraceMarks(t, m)
}

// TestGraceNewConnSameKey: while a connection is in its grace period, a
// new connection tracked under its key is left alone by the pending
// close, and a refused attempt to track the old one again neither
// replaces nor refreshes the new one.
func TestGraceNewConnSameKey(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{Grace: testGrace, OnEvict: rec.onEvict})
	oldClient, oldServer := tcpPair(t)
	newClient, newServer := tcpPair(t)
	require.NoError(t, m.Track(1, oldServer))
	m.tick(9)
	requireHalfClosed(t, oldClient)
	require.NoError(t, m.Track(1, newServer)) // stamped at epoch 9

	m.tick(12)
	assert.ErrorIs(t, m.Track(1, oldServer), ErrHalfClosed)
	_, err := m.TrackConn(1, oldServer)
	assert.ErrorIs(t, err, ErrHalfClosed)
	assert.Equal(t, 1, m.Len())
	assert.Empty(t, rec.all(), "the new connection is not replaced")

	m.tick(14)
	evs := rec.all()
	require.Len(t, evs, 1)
	assert.Equal(t, TimedOut, evs[0].reason)
	assert.Same(t, oldServer, evs[0].c)
	assert.Equal(t, 1, m.Len(), "the new connection is still tracked")
	requireDelivered(t, newServer, newClient, "still open")
	requireDelivered(t, newClient, newServer, "both ways")

	m.tick(17)
	assert.Equal(t, 1, m.Len())
	m.tick(18)
	assert.Zero(t, m.Len(), "the refused Track did not refresh the new connection")
	requireHalfClosed(t, newClient)
	m.tick(23)
	require.Len(t, rec.all(), 2)
	assert.Same(t, newServer, rec.all()[1].c)
	assertNoGraceMarks(t, m)
}

// TestGraceTwoUnderOneKey: two connections of one key in their grace
// periods at once are both refused, each until its own close.
func TestGraceTwoUnderOneKey(t *testing.T) {
	noLeaks(t)
	const grace = 150 * time.Millisecond
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{Grace: grace, OnEvict: rec.onEvict})
	client1, server1 := tcpPair(t)
	client2, server2 := tcpPair(t)
	_, server3 := tcpPair(t)
	require.NoError(t, m.Track(1, server1))
	m.tick(9) // server1 times out, closed at tick 24
	requireHalfClosed(t, client1)
	require.NoError(t, m.Track(1, server2))
	m.tick(18) // server2 times out, closed at tick 33
	requireHalfClosed(t, client2)

	assert.ErrorIs(t, m.Track(1, server1), ErrHalfClosed)
	assert.ErrorIs(t, m.Track(1, server2), ErrHalfClosed)
	m.tick(24)
	require.Len(t, rec.all(), 1)
	assert.Same(t, server1, rec.all()[0].c)
	assert.ErrorIs(t, m.Track(1, server2), ErrHalfClosed)
	require.NoError(t, m.Track(1, server3), "a new connection is welcome")
	m.tick(30)
	assert.True(t, m.Touch(1), "server3 is tracked") // it now expires at tick 39
	m.tick(33)
	require.Len(t, rec.all(), 2)
	assert.Same(t, server2, rec.all()[1].c)
	assertNoGraceMarks(t, m)
	assert.Equal(t, 1, m.Len())
	assert.True(t, m.Remove(1, server3))
}
