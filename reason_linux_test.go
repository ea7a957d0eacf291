//go:build linux

package keepalive

import (
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/go-keepalive/keepalive/keepalivetest"
)

// soError reads SO_ERROR, the error the socket has not delivered yet.
func soError(t *testing.T, conn *net.TCPConn) int {
	t.Helper()
	rc, err := conn.SyscallConn()
	require.NoError(t, err)
	var n int
	var getErr error
	require.NoError(t, rc.Control(func(fd uintptr) { n, getErr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR) }))
	require.NoError(t, getErr)
	return n
}

// laterCallsSeeItClosed checks what IsDeadPeer's doc says: only the first
// call after the drop got the kernel's error; a later Read gets io.EOF and
// a later Write EPIPE, which are not dead-peer errors, and Diagnose still
// tells why the connection died.
func laterCallsSeeItClosed(t *testing.T, conn *net.TCPConn, cause Cause) {
	t.Helper()
	n, readErr := conn.Read(make([]byte, 1))
	assert.Zero(t, n)
	assert.ErrorIs(t, readErr, io.EOF)
	_, writeErr := conn.Write([]byte("late"))
	assert.ErrorIs(t, writeErr, syscall.EPIPE)
	assert.False(t, IsDeadPeer(readErr))
	assert.False(t, IsDeadPeer(writeErr))
	assert.Equal(t, cause, Diagnose(conn, readErr))
	assert.Equal(t, cause, Diagnose(conn, writeErr))
}

// After keepalive gave up, the dead socket still says so: CLOSED, the
// probes that went unanswered (Count, or 1 with a UserTimeout), nothing
// retransmitted, the error already delivered.
func TestPostMortemKeepalive(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cfg    Config
		probes int
	}{
		{Config{Idle: time.Second, Interval: time.Second, Count: 2}, 2},
		{Config{Idle: time.Second, Interval: time.Second, Count: 5, UserTimeout: 2 * time.Second}, 1},
	} {
		t.Run(fmt.Sprintf("count=%d,user_timeout=%v", c.cfg.Count, c.cfg.UserTimeout), func(t *testing.T) {
			if isolate(t) {
				return
			}
			client, server := keepalivetest.Pair(t)
			require.NoError(t, c.cfg.Apply(client))
			require.NoError(t, keepalivetest.Vanish(server))
			_, err := readFails(t, client, time.Now(), 10*time.Second)
			require.ErrorIs(t, err, syscall.ETIMEDOUT)

			h, ierr := Inspect(client)
			require.NoError(t, ierr, "a dropped connection can still be inspected")
			assert.Equal(t, StateClosed, h.State)
			assert.Equal(t, c.probes, h.Probes)
			assert.Zero(t, h.Retransmits)
			assert.Zero(t, h.UnackedBytes)
			assert.Zero(t, soError(t, client), "SO_ERROR: the error was delivered to Read")
			assert.Equal(t, CauseKeepalive, h.Diagnose(err))
			assert.Equal(t, CauseKeepalive, Diagnose(client, err))
			assert.Equal(t, "keepalive probes unanswered", Diagnose(client, err).String())
			assert.Equal(t, "already dropped", h.Predict(mustGet(t, client)).String())
			laterCallsSeeItClosed(t, client, CauseKeepalive)
		})
	}
}

// After the user timeout ended retransmissions, the retransmission count
// and the unacknowledged bytes survive; the backoff does not.
func TestPostMortemDataInFlight(t *testing.T) {
	if isolate(t) {
		return
	}
	client, server := keepalivetest.Pair(t)
	cfg := Config{Idle: time.Second, Interval: time.Second, Count: 2, UserTimeout: 2 * time.Second}
	require.NoError(t, cfg.Apply(client))
	require.NoError(t, keepalivetest.Vanish(server))
	_, err := client.Write([]byte("unacknowledged"))
	require.NoError(t, err)
	_, err = readFails(t, client, time.Now(), 10*time.Second)
	require.ErrorIs(t, err, syscall.ETIMEDOUT)

	h, ierr := Inspect(client)
	require.NoError(t, ierr)
	assert.Equal(t, StateClosed, h.State)
	assert.Equal(t, 3, h.Retransmits, "retransmitted at 0.4, 0.8 and 1.6 s")
	assert.Zero(t, h.Backoff)
	assert.Zero(t, h.Probes)
	assert.Equal(t, len("unacknowledged"), h.UnackedBytes)
	assert.Zero(t, tcpInfo(t, client).Unacked, "the kernel's segment count is reset")
	assert.Equal(t, CauseUnacked, h.Diagnose(err))
	laterCallsSeeItClosed(t, client, CauseUnacked)
}

// A rebooted peer answers the first probe with RST.
func TestPostMortemReset(t *testing.T) {
	if isolate(t) {
		return
	}
	client, server := keepalivetest.Pair(t)
	require.NoError(t, Config{Idle: time.Second, Interval: time.Second, Count: 5}.Apply(client))
	require.NoError(t, keepalivetest.Reboot(server))
	_, err := readFails(t, client, time.Now(), 10*time.Second)
	require.ErrorIs(t, err, syscall.ECONNRESET)
	assert.Equal(t, CauseReset, Diagnose(client, err))
	assert.False(t, IsDeadPeer(err))
}

func TestPostMortemClosedNormally(t *testing.T) {
	client, server := pair(t)
	require.NoError(t, server.Close())
	_, err := client.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF)
	h, ierr := Inspect(client)
	require.NoError(t, ierr)
	assert.Equal(t, StateCloseWait, h.State)
	assert.Equal(t, CauseClosed, h.Diagnose(err))
}

func TestDiagnoseFromTheErrorAlone(t *testing.T) {
	var nothing Health
	opErr := func(errno syscall.Errno) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", errno)}
	}
	assert.Equal(t, CauseUnknown, nothing.Diagnose(nil))
	assert.Equal(t, CauseUnreachable, nothing.Diagnose(opErr(syscall.EHOSTUNREACH)))
	assert.Equal(t, CauseUnreachable, nothing.Diagnose(opErr(syscall.ENETUNREACH)))
	assert.Equal(t, CauseReset, nothing.Diagnose(opErr(syscall.ECONNRESET)))
	assert.Equal(t, CauseClosed, nothing.Diagnose(io.EOF))
	assert.Equal(t, CauseUnknown, nothing.Diagnose(opErr(syscall.ETIMEDOUT)), "timed out, but on what?")
	assert.Equal(t, CauseUnknown, nothing.Diagnose(os.ErrDeadlineExceeded), "a deadline is not a death")
	assert.Equal(t, CauseUnknown, nothing.Diagnose(net.ErrClosed))
	assert.Equal(t, "unknown cause", Cause(200).String())

	// The error of a dropped connection went to another call: io.EOF or
	// EPIPE, but the socket is CLOSED, not CLOSE-WAIT.
	dropped := Health{State: StateClosed, Probes: 2, Known: linuxMetrics, SendWindow: 65536}
	assert.Equal(t, CauseKeepalive, dropped.Diagnose(io.EOF))
	assert.Equal(t, CauseKeepalive, dropped.Diagnose(opErr(syscall.EPIPE)))
}
