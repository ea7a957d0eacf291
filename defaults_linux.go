package keepalive

import (
	"os"
	"time"
)

// readSystemDefaults reads /proc/sys/net/ipv4/tcp_keepalive_*: seconds,
// seconds and probes.
func readSystemDefaults() (Config, error) {
	var n [3]int
	for i, name := range [...]string{"time", "intvl", "probes"} {
		path := "/proc/sys/net/ipv4/tcp_keepalive_" + name
		b, err := os.ReadFile(path)
		if err != nil {
			return Config{}, err
		}
		if n[i], err = procInt(path, b); err != nil {
			return Config{}, err
		}
	}
	return Config{
		Idle:     time.Duration(n[0]) * time.Second,
		Interval: time.Duration(n[1]) * time.Second,
		Count:    n[2],
	}, nil
}
