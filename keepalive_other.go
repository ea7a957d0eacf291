//go:build !unix && !windows

package keepalive

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
)

// native is an OS without per-socket keepalive support in this package:
// every non-zero field is reported missing.
var native = &platform{goos: runtime.GOOS}

func unsupportedOS() error {
	return fmt.Errorf("%w: keepalive on %s", ErrUnsupported, runtime.GOOS)
}

func checkTCP(uintptr) error         { return unsupportedOS() }
func setAll(uintptr, *values) error  { return unsupportedOS() }
func setEnabled(uintptr, bool) error { return unsupportedOS() }
func getAll(uintptr, *State) error   { return unsupportedOS() }

func optionMissing(err error) bool { return errors.Is(err, errors.ErrUnsupported) }

func isTimedOut(err error) bool { return errors.Is(err, syscall.ETIMEDOUT) }
