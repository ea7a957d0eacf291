//go:build linux

package keepalive

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/go-keepalive/keepalive/internal/tcpinfo"
	"github.com/go-keepalive/keepalive/keepalivetest"
)

// The dead-peer tests spend their time waiting for the kernel, not on a
// CPU, so they run side by side beyond the default of GOMAXPROCS at a time.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "16")
	}
	code := m.Run()
	if len(detections.rows) > 0 {
		fmt.Printf("dead-peer detection times, measured:\n%s\n", strings.Join(detections.rows, "\n"))
	}
	os.Exit(code)
}

// isolate runs t where peers can be black-holed: as root directly, else in a
// user and network namespace of its own. It reports whether the caller
// must return because the test already ran elsewhere.
func isolate(t *testing.T) bool {
	t.Parallel()
	return keepalivetest.RunIsolated(t)
}

// readFails blocks in Read on conn until the connection fails or limit
// passes, and returns the error and how long it took from start.
func readFails(t *testing.T, conn net.Conn, start time.Time, limit time.Duration) (time.Duration, error) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(start.Add(limit)))
	n, err := conn.Read(make([]byte, 1))
	require.Zero(t, n, "the black-holed peer sent data")
	return time.Since(start), err
}

// tcpInfo reads the kernel's view of conn: state, unanswered probes,
// retransmissions.
func tcpInfo(t *testing.T, conn *net.TCPConn) *unix.TCPInfo {
	t.Helper()
	info, err := tcpinfo.Get(conn)
	require.NoError(t, err)
	return info
}

// detections collects the measured detection times, printed as a report
// when the tests end.
var detections struct {
	sync.Mutex
	rows []string
}

func record(name string, took, bound time.Duration) string {
	line := fmt.Sprintf("%-45s detected after %5.2fs (bound %v, ratio %.2f)", name, took.Seconds(), bound, float64(took)/float64(bound))
	detections.Lock()
	detections.rows = append(detections.rows, line)
	detections.Unlock()
	return line
}

// assertRatio checks that took is within [lo, hi] times bound.
func assertRatio(t *testing.T, took, bound time.Duration, lo, hi float64) {
	t.Helper()
	ratio := float64(took) / float64(bound)
	assert.GreaterOrEqual(t, ratio, lo, "detected after %v, before the bound %v", took, bound)
	assert.LessOrEqual(t, ratio, hi, "detected after %v, bound %v", took, bound)
}

// Scenario: an idle connection whose peer vanishes is dropped after Idle +
// Interval*Count, and Read fails with ETIMEDOUT.
func TestDeadPeerIdle(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{Idle: time.Second, Interval: time.Second, Count: 2},
		{Idle: time.Second, Interval: time.Second, Count: 5},
		{Idle: 2 * time.Second, Interval: time.Second, Count: 3},
		// On Linux the user timeout, not the count, ends the probing.
		{Idle: time.Second, Interval: time.Second, Count: 5, UserTimeout: 2 * time.Second},
	} {
		name := fmt.Sprintf("idle=%v,interval=%v,count=%d,user_timeout=%v", cfg.Idle, cfg.Interval, cfg.Count, cfg.UserTimeout)
		t.Run(name, func(t *testing.T) {
			if isolate(t) {
				return
			}
			client, server := keepalivetest.Pair(t)
			bound := boundOf(t, cfg)
			start := time.Now()
			require.NoError(t, cfg.Apply(client))
			require.NoError(t, keepalivetest.Vanish(server))

			took, err := readFails(t, client, start, bound+5*time.Second)
			require.ErrorIs(t, err, syscall.ETIMEDOUT)
			assert.True(t, IsDeadPeer(err))
			t.Log(record(name, took, bound))
			assertRatio(t, took, bound, 1.0, 1.15)
		})
	}
}

// Scenario: with keepalive off, nothing notices the dead peer: only the
// read deadline ends the wait.
func TestDeadPeerKeepaliveOff(t *testing.T) {
	if isolate(t) {
		return
	}
	client, server := keepalivetest.Pair(t)
	cfg := Config{Idle: time.Second, Interval: time.Second, Count: 2}
	require.NoError(t, cfg.Apply(client))
	require.NoError(t, Disable(client))
	require.NoError(t, keepalivetest.Vanish(server))

	limit := boundOf(t, cfg) + time.Second
	took, err := readFails(t, client, time.Now(), limit)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.False(t, IsDeadPeer(err))
	assert.GreaterOrEqual(t, took, limit)
	info := tcpInfo(t, client)
	assert.Equal(t, uint8(unix.BPF_TCP_ESTABLISHED), info.State)
	assert.Zero(t, info.Probes, "probes sent although keepalive is off")
}

// Scenario: while sent data is unacknowledged, the kernel retransmits and
// sends no keepalive probes, so keepalive alone misses the dead peer for
// the ~15 minutes of retransmissions. UserTimeout catches it.
func TestDeadPeerDataInFlight(t *testing.T) {
	t.Parallel()
	t.Run("keepalive alone", func(t *testing.T) {
		if isolate(t) {
			return
		}
		client, server := keepalivetest.Pair(t)
		cfg := Config{Idle: time.Second, Interval: time.Second, Count: 2}
		require.NoError(t, cfg.Apply(client))
		require.NoError(t, keepalivetest.Vanish(server))
		_, err := client.Write([]byte("unacknowledged"))
		require.NoError(t, err)

		limit := boundOf(t, cfg) + 2*time.Second
		_, err = readFails(t, client, time.Now(), limit)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded, "keepalive fired with data in flight")
		info := tcpInfo(t, client)
		assert.Equal(t, uint8(unix.BPF_TCP_ESTABLISHED), info.State)
		assert.NotZero(t, info.Retransmits, "the kernel is retransmitting")
		assert.NotZero(t, info.Unacked)
		assert.Zero(t, info.Probes, "keepalive probes sent with data in flight")
	})
	t.Run("with UserTimeout", func(t *testing.T) {
		if isolate(t) {
			return
		}
		client, server := keepalivetest.Pair(t)
		cfg := Config{Idle: time.Second, Interval: time.Second, Count: 2, UserTimeout: 2 * time.Second}
		require.NoError(t, cfg.Apply(client))
		require.NoError(t, keepalivetest.Vanish(server))
		start := time.Now()
		_, err := client.Write([]byte("unacknowledged"))
		require.NoError(t, err)

		took, err := readFails(t, client, start, cfg.UserTimeout+5*time.Second)
		require.ErrorIs(t, err, syscall.ETIMEDOUT)
		assert.True(t, IsDeadPeer(err))
		t.Log(record("data in flight, user_timeout=2s", took, cfg.UserTimeout))
		// The kernel checks the user timeout when a retransmission timer
		// fires, and counts it from the first retransmission, so it
		// lands up to a few hundred milliseconds late on loopback.
		assertRatio(t, took, cfg.UserTimeout, 1.0, 1.5)
	})
}

// Scenario: a peer that comes back before Count probes have gone
// unanswered answers the next probe, and the connection survives.
func TestDeadPeerComesBack(t *testing.T) {
	if isolate(t) {
		return
	}
	client, server := keepalivetest.Pair(t)
	cfg := Config{Idle: time.Second, Interval: time.Second, Count: 3}
	require.NoError(t, cfg.Apply(client))
	require.NoError(t, keepalivetest.Vanish(server))

	// The first probe goes out at 1s and is lost.
	time.Sleep(cfg.Idle + cfg.Interval/2)
	assert.NotZero(t, tcpInfo(t, client).Probes, "no probe went unanswered")
	require.NoError(t, keepalivetest.Reappear(server))

	limit := boundOf(t, cfg) + time.Second
	_, err := readFails(t, client, time.Now(), limit)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "the connection was dropped although the peer came back")
	info := tcpInfo(t, client)
	assert.Equal(t, uint8(unix.BPF_TCP_ESTABLISHED), info.State)
	assert.Zero(t, info.Probes, "the answered probe did not reset the count")

	require.NoError(t, client.SetReadDeadline(time.Time{}))
	_, err = server.Write([]byte("x"))
	require.NoError(t, err)
	_, err = client.Read(make([]byte, 1))
	require.NoError(t, err, "data no longer flows")
}

// Scenario: the peer's host rebooted and forgot the connection, so it
// answers the first probe with RST: Read fails with ECONNRESET after Idle.
func TestDeadPeerRebooted(t *testing.T) {
	if isolate(t) {
		return
	}
	client, server := keepalivetest.Pair(t)
	cfg := Config{Idle: time.Second, Interval: time.Second, Count: 5}
	start := time.Now()
	require.NoError(t, cfg.Apply(client))
	require.NoError(t, keepalivetest.Reboot(server))

	took, err := readFails(t, client, start, boundOf(t, cfg)+5*time.Second)
	require.ErrorIs(t, err, syscall.ECONNRESET)
	assert.False(t, IsDeadPeer(err), "a reset is an answer, not a dead peer")
	assertRatio(t, took, cfg.Idle, 1.0, 1.3)
}

// Scenario: connections accepted through the listener helpers notice a
// vanished client within the bound too.
func TestDeadClientOfListener(t *testing.T) {
	t.Parallel()
	cfg := Config{Idle: time.Second, Interval: time.Second, Count: 2}
	listeners := map[string]func(t *testing.T) net.Listener{
		"Listen": func(t *testing.T) net.Listener {
			ln, err := cfg.Listen(context.Background(), nil, "tcp4", "127.0.0.1:0")
			require.NoError(t, err)
			return ln
		},
		"ListenConfig": func(t *testing.T) net.Listener {
			ln, err := mustListenConfig(t, cfg, nil).Listen(context.Background(), "tcp4", "127.0.0.1:0")
			require.NoError(t, err)
			return ln
		},
		"Listener": func(t *testing.T) net.Listener {
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			require.NoError(t, err)
			wrapped, err := cfg.Listener(ln)
			require.NoError(t, err)
			return wrapped
		},
	}
	for name, listen := range listeners {
		t.Run(name, func(t *testing.T) {
			if isolate(t) {
				return
			}
			ln := listen(t)
			defer ln.Close()
			start := time.Now()
			client, server := dialAccept(t, ln, &net.Dialer{KeepAlive: -1})
			require.NoError(t, keepalivetest.Vanish(client))

			bound := boundOf(t, cfg)
			took, err := readFails(t, server, start, bound+5*time.Second)
			require.ErrorIs(t, err, syscall.ETIMEDOUT)
			t.Log(record("accepted via "+name, took, bound))
			assertRatio(t, took, bound, 1.0, 1.15)
		})
	}
}
