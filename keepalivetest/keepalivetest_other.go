//go:build !linux

package keepalivetest

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"testing"
)

// errUnsupported is returned by every fault: classic BPF socket filters that
// run before TCP processing, and TCP_REPAIR, are Linux features, and there is
// no equivalent that keeps the test on a real kernel socket.
var errUnsupported = fmt.Errorf("keepalivetest: not supported on %s: %w", runtime.GOOS, errors.ErrUnsupported)

// Vanish is Linux-only; here it reports an error wrapping
// [errors.ErrUnsupported].
func Vanish(conn net.Conn) error { return errUnsupported }

// Reappear is Linux-only; here it reports an error wrapping
// [errors.ErrUnsupported].
func Reappear(conn net.Conn) error { return errUnsupported }

// Reboot is Linux-only; here it reports an error wrapping
// [errors.ErrUnsupported] and leaves conn open.
func Reboot(conn net.Conn) error { return errUnsupported }

// StopReading is Linux-only; here it reports an error wrapping
// [errors.ErrUnsupported].
func StopReading(conn net.Conn) error { return errUnsupported }

// Check reports an error wrapping [errors.ErrUnsupported]: the faults are
// Linux-only.
func Check() error { return errUnsupported }

// RunIsolated skips the test, since the faults cannot work on this
// platform; it never returns true.
func RunIsolated(t *testing.T) (done bool) {
	t.Helper()
	t.Skip(errUnsupported.Error())
	return false
}

// IsolateProcess reports an error wrapping [errors.ErrUnsupported]: the
// faults are Linux-only.
func IsolateProcess() error { return errUnsupported }
