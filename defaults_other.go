//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd && !windows

package keepalive

import (
	"fmt"
	"runtime"
)

// readSystemDefaults has no system-wide defaults to read on this OS.
func readSystemDefaults() (Config, error) {
	return Config{}, fmt.Errorf("%w: reading the system keepalive defaults on %s", ErrUnsupported, runtime.GOOS)
}
