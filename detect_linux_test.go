package keepalive

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The errors a dropped connection may report are a dead peer
// after a read or write, not after a dial.
func TestIsDeadPeerNotAfterDial(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ETIMEDOUT} {
		read := &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: errno}}
		assert.True(t, IsDeadPeer(read), "%v", read)
		dial := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: errno}}
		assert.False(t, IsDeadPeer(dial), "%v", dial)
		assert.False(t, IsDeadPeer(fmt.Errorf("pool: %w", dial)), "wrapped: %v", dial)
	}
}

// A real dial that fails with an error IsDeadPeer knows from dead
// connections (ENETUNREACH: a fresh network namespace has no route at all)
// is no dead peer.
func TestIsDeadPeerFailedDial(t *testing.T) {
	errc := make(chan error, 1)
	go func() {
		// The thread enters a namespace of its own and is never given
		// back: it ends with this goroutine.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		_, err := net.Dial("tcp4", "192.0.2.1:80")
		errc <- err
	}()
	err := <-errc
	if err == syscall.EPERM {
		t.Skip("a network namespace of its own needs CAP_SYS_ADMIN: run as root")
	}
	require.ErrorIs(t, err, syscall.ENETUNREACH)
	var op *net.OpError
	require.ErrorAs(t, err, &op)
	assert.Equal(t, "dial", op.Op)
	assert.True(t, isTimedOut(err), "the errno alone is one a dropped connection reports")
	assert.False(t, IsDeadPeer(err), "a dial that never connected: %v", err)
}
