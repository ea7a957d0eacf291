//go:build linux

package blackhole

import (
	"errors"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// tcpEstablished is the kernel's TCP_ESTABLISHED state as reported in
// tcp_info.tcpi_state.
const tcpEstablished = 1

// setKeepalive enables aggressive keepalive on c: first probe after idle
// seconds without traffic, then one every intvl seconds, giving up after cnt
// unanswered probes. The timings are set before SO_KEEPALIVE so that the
// kernel arms the keepalive timer with them rather than with the 2h default.
func setKeepalive(t *testing.T, c *net.TCPConn, idle, intvl, cnt int) {
	t.Helper()
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	var setErr error
	require.NoError(t, rc.Control(func(fd uintptr) {
		setErr = errors.Join(
			unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, idle),
			unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, intvl),
			unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPCNT, cnt),
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1),
		)
	}))
	require.NoError(t, setErr)
}

func TestDropSilencesPeerUntilRestore(t *testing.T) {
	t.Parallel()
	if RunIsolated(t) {
		return
	}
	client, server := Pair(t)
	require.NoError(t, Drop(server))

	_, err := client.Write([]byte{42})
	require.NoError(t, err)

	// Nothing reaches the dropped server...
	buf := make([]byte, 1)
	require.NoError(t, server.SetReadDeadline(time.Now().Add(time.Second)))
	n, err := server.Read(buf)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.Zero(t, n)

	// ...and the server never acknowledged it: the client is still
	// retransmitting into the void.
	info, err := TCPInfo(client)
	require.NoError(t, err)
	t.Logf("client after 1s dropped: unacked=%d retransmits=%d total_retrans=%d rto=%v",
		info.Unacked, info.Retransmits, info.Total_retrans, time.Duration(info.Rto)*time.Microsecond)
	assert.Positive(t, info.Unacked, "the byte must stay unacknowledged")
	assert.Positive(t, info.Total_retrans, "the client must have retransmitted the byte")

	// Once restored, the next retransmission gets through on its own.
	require.NoError(t, Restore(server))
	restored := time.Now()
	require.NoError(t, server.SetReadDeadline(restored.Add(10*time.Second)))
	n, err = server.Read(buf)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, byte(42), buf[0])
	t.Logf("byte delivered %v after Restore", time.Since(restored).Round(time.Millisecond))

	assert.Eventually(t, func() bool {
		info, err := TCPInfo(client)
		return err == nil && info.Unacked == 0
	}, 2*time.Second, 10*time.Millisecond, "the client's data must end up acknowledged")
}

func TestDropIsDetectedByKeepalive(t *testing.T) {
	t.Parallel()
	if RunIsolated(t) {
		return
	}

	t.Run("dropped peer times out", func(t *testing.T) {
		t.Parallel()
		client, server := Pair(t)
		setKeepalive(t, client, 1, 1, 2)
		require.NoError(t, Drop(server))

		// Idle 1s, then probes at 1s and 2s go unanswered, and at 3s the
		// kernel gives up after KEEPCNT=2 probes.
		start := time.Now()
		require.NoError(t, client.SetReadDeadline(start.Add(10*time.Second))) // only a safety net
		_, err := client.Read(make([]byte, 1))
		elapsed := time.Since(start)
		t.Logf("client read failed after %v: %v", elapsed.Round(time.Millisecond), err)
		require.ErrorIs(t, err, syscall.ETIMEDOUT)
		assert.GreaterOrEqual(t, elapsed, 2900*time.Millisecond)
		assert.Less(t, elapsed, 4*time.Second)

		// The server never learned: the client's RST was dropped too.
		info, err := TCPInfo(server)
		require.NoError(t, err)
		assert.EqualValues(t, tcpEstablished, info.State, "the dropped server must still think it is connected")
	})

	t.Run("live peer answers probes (control)", func(t *testing.T) {
		t.Parallel()
		client, _ := Pair(t)
		setKeepalive(t, client, 1, 1, 2)

		// Same settings without Drop: the probes are answered, so the
		// connection outlives the 3s a dead peer gets.
		require.NoError(t, client.SetReadDeadline(time.Now().Add(4*time.Second)))
		_, err := client.Read(make([]byte, 1))
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		info, err := TCPInfo(client)
		require.NoError(t, err)
		assert.EqualValues(t, tcpEstablished, info.State)
		assert.Zero(t, info.Probes, "every probe must have been answered")
	})
}

func TestForget(t *testing.T) {
	t.Parallel()
	if RunIsolated(t) {
		return
	}

	t.Run("keepalive probe is answered with RST", func(t *testing.T) {
		t.Parallel()
		client, server := Pair(t)
		setKeepalive(t, client, 1, 1, 2)
		start := time.Now()
		require.NoError(t, Forget(server))
		_, err := server.Write([]byte{1})
		require.ErrorIs(t, err, net.ErrClosed, "Forget must close the conn")

		// Forget sends nothing: a FIN would read as io.EOF and a RST as
		// ECONNRESET, but the client hears nothing until its own first
		// keepalive probe, 1s after the last traffic.
		buf := make([]byte, 1)
		require.NoError(t, client.SetReadDeadline(start.Add(500*time.Millisecond)))
		_, err = client.Read(buf)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)

		// That probe reaches a kernel without the connection, which
		// answers RST.
		require.NoError(t, client.SetReadDeadline(start.Add(5*time.Second)))
		_, err = client.Read(buf)
		elapsed := time.Since(start)
		t.Logf("client read failed after %v: %v", elapsed.Round(time.Millisecond), err)
		require.ErrorIs(t, err, syscall.ECONNRESET)
		assert.Greater(t, elapsed, 800*time.Millisecond)
		assert.Less(t, elapsed, 2*time.Second)
	})

	t.Run("write is answered with RST", func(t *testing.T) {
		t.Parallel()
		client, server := Pair(t)
		require.NoError(t, Forget(server))

		start := time.Now()
		_, err := client.Write([]byte{1})
		require.NoError(t, err, "the client cannot know yet")
		require.NoError(t, client.SetReadDeadline(start.Add(5*time.Second)))
		_, err = client.Read(make([]byte, 1))
		elapsed := time.Since(start)
		t.Logf("client read failed after %v: %v", elapsed.Round(time.Millisecond), err)
		require.ErrorIs(t, err, syscall.ECONNRESET)
		assert.Less(t, elapsed, time.Second)
	})

	t.Run("plain close sends FIN (control)", func(t *testing.T) {
		t.Parallel()
		client, server := Pair(t)
		require.NoError(t, server.Close())

		// Without TCP_REPAIR the client learns at once: this is what
		// Forget must not do.
		require.NoError(t, client.SetReadDeadline(time.Now().Add(5*time.Second)))
		_, err := client.Read(make([]byte, 1))
		require.ErrorIs(t, err, io.EOF)
	})
}

func TestCheck(t *testing.T) {
	t.Parallel()
	if isInitialRoot(t) {
		// Real root has CAP_NET_ADMIN: no namespace is needed.
		require.NoError(t, Check())
	}
	if RunIsolated(t) {
		return
	}
	require.NoError(t, Check())
	require.NoError(t, checkForget())
}

// isInitialRoot reports whether the test runs as root of the initial user
// namespace. Root of a nested user namespace (as in the namespace child, or
// under `unshare -U`) also has euid 0 but no power over the host's network.
func isInitialRoot(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return false
	}
	uidMap, err := os.ReadFile("/proc/self/uid_map")
	require.NoError(t, err)
	// The initial user namespace maps the whole uid range onto itself.
	return strings.Join(strings.Fields(string(uidMap)), " ") == "0 0 4294967295"
}

func TestRunPattern(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, want string
	}{
		{"TestFoo", `^TestFoo$`},
		{"TestFoo/case", `^TestFoo$/^case$`},
		{"TestFoo/a.b*(c)[d]|e^$\\", `^TestFoo$/^a\.b\*\(c\)\[d\]\|e\^\$\\$`},
		{"TestFoo/case#01", `^TestFoo$/^case#01$`},
		{"TestFoo/nested/level", `^TestFoo$/^nested$/^level$`},
	} {
		got := runPattern(tc.name)
		assert.Equal(t, tc.want, got, "pattern for %q", tc.name)

		// Level by level, as the testing package matches.
		levels, patterns := strings.Split(tc.name, "/"), strings.Split(got, "/")
		require.Len(t, patterns, len(levels))
		for i := range levels {
			assert.Regexp(t, regexp.MustCompile(patterns[i]), levels[i])
		}
	}
	// Anchored: a prefix or a uniquified sibling must not match.
	assert.NotRegexp(t, `^case$`, "case#01")
	assert.NotRegexp(t, `^TestFoo$`, "TestFoo2")
}

// TestRunIsolatedForced exercises the namespace path even as root, by forcing
// it: each subtest must actually run in a re-executed child in a fresh
// network namespace. The subtest names are chosen to break a naive -test.run
// pattern. Not parallel because it sets an environment variable; its
// subtests are, and they inherit the variable.
func TestRunIsolatedForced(t *testing.T) {
	t.Setenv(ForceNamespaceEnv, "1")
	for _, name := range []string{
		"plain",
		"regexp meta .*+?()[]{}|^$\\",
		"nested/levels",
		"dup",
		"dup", // becomes dup#01
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if RunIsolated(t) {
				return
			}
			// Only the child may get here: in the parent, a forced
			// RunIsolated either ran the test in a child or skipped.
			require.Equal(t, "1", os.Getenv(childEnv), "forced RunIsolated ran the test outside the namespace")

			// A fresh network namespace: only lo, and it was brought up.
			ifaces, err := net.Interfaces()
			require.NoError(t, err)
			require.Len(t, ifaces, 1)
			assert.Equal(t, "lo", ifaces[0].Name)
			assert.NotZero(t, ifaces[0].Flags&net.FlagUp, "lo must be up")
			assert.Equal(t, 0, os.Geteuid(), "the user must be mapped to root")

			// And the helpers really work there.
			require.NoError(t, Check())
			client, server := Pair(t)
			require.NoError(t, Forget(server))
			_, err = client.Write([]byte{1})
			require.NoError(t, err)
			require.NoError(t, client.SetReadDeadline(time.Now().Add(5*time.Second)))
			_, err = client.Read(make([]byte, 1))
			require.ErrorIs(t, err, syscall.ECONNRESET)
		})
	}
}
