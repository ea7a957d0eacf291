package keepalive

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A sysctlSpec says where a BSD kernel keeps its keepalive defaults, and in
// which unit.
type sysctlSpec struct {
	idle, interval string
	// count is the probe count's sysctl, or "" where the kernel's count is
	// fixedCount.
	count      string
	fixedCount int
	// unit is what one unit of idle and interval means.
	unit time.Duration
	// slowhz names a sysctl that gives the kernel's slow-timeout ticks per
	// second. Where it can be read, idle and interval count those ticks
	// and unit does not apply.
	slowhz string
}

// config converts the values read from s's sysctls into a Config. slowhz is
// the value of s.slowhz, or 0 where there is none.
func (s *sysctlSpec) config(idle, interval, count, slowhz uint32) Config {
	unit := s.unit
	if slowhz > 0 {
		unit = time.Second / time.Duration(slowhz)
	}
	c := Config{
		Idle:     time.Duration(idle) * unit,
		Interval: time.Duration(interval) * unit,
		Count:    int(count),
	}
	if s.count == "" {
		c.Count = s.fixedCount
	}
	return c
}

// procInt parses the content of a /proc/sys file holding one number.
func procInt(path string, b []byte) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("keepalive: %s: %w", path, err)
	}
	return n, nil
}
