package keepalive

import (
	"os"
	"sync"
	"time"
)

// nativeTimers reads, once, the settings of this network namespace that
// the kernel's give-up rules use.
var nativeTimers = sync.OnceValue(func() *kernelTimers {
	k := *native.timers
	if n, err := readSysctl("net/ipv4/tcp_retries2"); err == nil {
		k.retries2 = n
	}
	if n, err := readSysctl("net/ipv4/tcp_rto_max_ms"); err == nil && n > 0 {
		k.rtoMax = time.Duration(n) * time.Millisecond
	}
	return &k
})

// readSysctl reads a number from /proc/sys/name.
func readSysctl(name string) (int, error) {
	path := "/proc/sys/" + name
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return procInt(path, b)
}
