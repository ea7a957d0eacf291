//go:build !unix && !windows

package keepalive

import (
	"errors"
	"runtime"
	"syscall"
)

// native is an OS without per-socket keepalive support: nothing can be
// applied or read, and every call that would reach a socket says so
// before it does (sockOp.nothing); the functions below are never reached.
var native = &platform{goos: runtime.GOOS, noKeepalive: true}

func checkTCP(uintptr) error                   { return nothingDone(native, 0, false) }
func setAll(*platform, uintptr, *values) error { return nothingDone(native, 0, false) }
func setEnabled(uintptr, bool) error           { return nothingDone(native, 0, false) }
func getAll(*platform, uintptr, *State) error  { return nothingDone(native, 0, true) }

func connGone(error) bool { return false }

func isTimedOut(err error) bool { return errors.Is(err, syscall.ETIMEDOUT) }
