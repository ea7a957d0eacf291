//go:build windows

package keepalive

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// tcpipParameters is the registry key, under HKEY_LOCAL_MACHINE, of
// Windows' system-wide TCP settings.
const tcpipParameters = `SYSTEM\CurrentControlSet\Services\Tcpip\Parameters`

// readSystemDefaults reads the KeepAliveTime and KeepAliveInterval registry
// values (milliseconds) under tcpipParameters. Where they are absent the
// documented 2h0m0s and 1s apply; Count is the 10 probes Windows fixes. A
// value that cannot be read is reported in the error, and its documented
// default returned in its place.
func readSystemDefaults() (Config, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, tcpipParameters, registry.QUERY_VALUE)
	if err != nil {
		def := winDefaults(0, 0, false, false)
		if errors.Is(err, registry.ErrNotExist) {
			return def, nil
		}
		return def, fmt.Errorf("keepalive: open HKLM\\%s: %w", tcpipParameters, err)
	}
	defer k.Close()
	var errs []error
	read := func(name string) (uint64, bool) {
		v, _, err := k.GetIntegerValue(name)
		switch {
		case err == nil:
			return v, true
		case !errors.Is(err, registry.ErrNotExist):
			errs = append(errs, fmt.Errorf("keepalive: read HKLM\\%s\\%s: %w", tcpipParameters, name, err))
		}
		return 0, false
	}
	idleMS, okIdle := read("KeepAliveTime")
	intervalMS, okInterval := read("KeepAliveInterval")
	return winDefaults(idleMS, intervalMS, okIdle, okInterval), errors.Join(errs...)
}
