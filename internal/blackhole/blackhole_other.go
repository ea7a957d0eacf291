//go:build !linux

package blackhole

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"syscall"
	"testing"
)

// errUnsupported is returned by every helper: classic BPF socket filters that
// run before TCP processing and TCP_REPAIR are Linux features, and there is
// no equivalent that keeps the test on a real kernel socket.
var errUnsupported = fmt.Errorf("blackhole: not supported on %s: %w", runtime.GOOS, errors.ErrUnsupported)

// Drop is Linux-only; here it reports an error wrapping [errors.ErrUnsupported].
func Drop(conn syscall.Conn) error { return errUnsupported }

// Restore is Linux-only; here it reports an error wrapping [errors.ErrUnsupported].
func Restore(conn syscall.Conn) error { return errUnsupported }

// Forget is Linux-only; here it reports an error wrapping
// [errors.ErrUnsupported] and leaves conn open.
func Forget(conn *net.TCPConn) error { return errUnsupported }

// Check reports an error wrapping [errors.ErrUnsupported]: the helpers are
// Linux-only.
func Check() error { return errUnsupported }

// RunIsolated skips the test, since the helpers cannot work on this
// platform; it never returns true.
func RunIsolated(t *testing.T) (done bool) {
	t.Helper()
	t.Skip(errUnsupported.Error())
	return false
}

// Isolate reports an error wrapping [errors.ErrUnsupported]: the helpers
// are Linux-only.
func Isolate() error { return errUnsupported }
