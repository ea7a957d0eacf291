//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package keepalive

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// readSystemDefaults reads the sysctls that the native table names.
func readSystemDefaults() (Config, error) {
	s := native.defaults
	read := func(name string) (uint32, error) {
		v, err := unix.SysctlUint32(name)
		if err != nil {
			return 0, fmt.Errorf("keepalive: sysctl %s: %w", name, err)
		}
		return v, nil
	}
	idle, err := read(s.idle)
	if err != nil {
		return Config{}, err
	}
	interval, err := read(s.interval)
	if err != nil {
		return Config{}, err
	}
	var count uint32
	if s.count != "" {
		if count, err = read(s.count); err != nil {
			return Config{}, err
		}
	}
	var slowhz uint32
	if s.slowhz != "" {
		// Kernels that count in seconds have no such sysctl.
		slowhz, _ = unix.SysctlUint32(s.slowhz)
	}
	return s.config(idle, interval, count, slowhz), nil
}
