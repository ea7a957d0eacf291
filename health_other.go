//go:build !linux && !darwin && !freebsd && !netbsd && !windows

package keepalive

import (
	"fmt"
	"runtime"
)

// inspectFD reports that this package reads no connection health on this
// OS.
func inspectFD(uintptr, *Health) error {
	return fmt.Errorf("%w: connection health on %s", ErrUnsupported, runtime.GOOS)
}
