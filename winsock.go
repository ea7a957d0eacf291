package keepalive

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Windows' keepalive machinery, as data and pure arithmetic, so that it is
// unit-tested on every OS; keepalive_windows.go does the system calls and
// checks these numbers against golang.org/x/sys/windows.
//
// Windows 10 1709 and later have per-socket options in seconds:
// TCP_KEEPIDLE (also called TCP_KEEPALIVE) and TCP_KEEPINTVL, and from 1703
// TCP_KEEPCNT; all three can be read back. Older systems, and Wine, have only
// the SIO_KEEPALIVE_VALS ioctl: it sets idle and interval together, in
// milliseconds, switches keepalive on, cannot set the probe count (fixed at
// 10 since Vista) and cannot read anything back. UserTimeout is TCP_MAXRTMS
// in milliseconds, or TCP_MAXRT in seconds where that is missing.
const (
	winTCPKeepIdle       = 3 // TCP_KEEPALIVE
	winTCPMaxRT          = 5
	winTCPMaxRTMS        = 14
	winTCPKeepCnt        = 16
	winTCPKeepIntvl      = 17
	winSIOKeepaliveVals  = 0x98000004    // _WSAIOW(IOC_VENDOR, 4)
	winDefaultIdle       = 2 * time.Hour // KeepAliveTime
	winDefaultInterval   = time.Second   // KeepAliveInterval
	winDefaultCount      = 10            // fixed since Windows Vista
	winMaxKeepaliveMilli = math.MaxUint32
)

// winMaxKeepaliveSeconds is the longest Idle or Interval: the ioctl takes
// ULONG milliseconds. The per-socket options get the same limit, so that a
// Config valid on one Windows is valid on every other.
const winMaxKeepaliveSeconds = winMaxKeepaliveMilli / 1000

// winsockSupport says which per-socket options a Windows system has. The
// zero value is a system with none: the ioctl only.
type winsockSupport struct {
	keepIdle, keepIntvl, keepCnt bool // TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT
	maxRTMS, maxRT               bool // TCP_MAXRTMS, TCP_MAXRT
}

// winsockModern is Windows 10 1709 or later.
var winsockModern = winsockSupport{keepIdle: true, keepIntvl: true, keepCnt: true, maxRTMS: true, maxRT: true}

// ioctl reports whether Idle and Interval are set with SIO_KEEPALIVE_VALS.
func (s winsockSupport) ioctl() bool { return !s.keepIdle || !s.keepIntvl }

// platform is the table for a system with s. Idle and Interval are whole
// seconds either way, rounded up as Go rounds them, so that a Config means
// the same on every Windows; the ioctl gets them in milliseconds. No option
// is marked inherited: which ones an accepted socket copies from its
// listener is not documented.
func (s winsockSupport) platform() platform {
	p := platform{goos: "windows"}
	keep := func(name string, opt int) sockopt {
		return sockopt{name: name, level: ipprotoTCP, opt: opt, unit: time.Second, min: 1, max: winMaxKeepaliveSeconds}
	}
	if s.ioctl() {
		// Set through the ioctl, not setsockopt: level and opt are unused.
		p.knobs[idle] = sockopt{name: "SIO_KEEPALIVE_VALS", unit: time.Second, min: 1, max: winMaxKeepaliveSeconds}
		p.knobs[interval] = p.knobs[idle]
	} else {
		p.knobs[idle] = keep("TCP_KEEPIDLE", winTCPKeepIdle)
		p.knobs[interval] = keep("TCP_KEEPINTVL", winTCPKeepIntvl)
	}
	if s.keepCnt {
		p.knobs[count] = sockopt{name: "TCP_KEEPCNT", level: ipprotoTCP, opt: winTCPKeepCnt, min: 1, max: 255}
	} else {
		p.fixedCount = winDefaultCount
	}
	switch {
	case s.maxRTMS:
		p.knobs[userTimeout] = sockopt{name: "TCP_MAXRTMS", level: ipprotoTCP, opt: winTCPMaxRTMS, unit: time.Millisecond, min: 1, max: math.MaxInt32}
	case s.maxRT:
		p.knobs[userTimeout] = sockopt{name: "TCP_MAXRT", level: ipprotoTCP, opt: winTCPMaxRT, unit: time.Second, min: 1, max: winMaxKeepaliveSeconds}
	}
	return p
}

// unreadable returns the error Get reports on a system with s: it names the
// fields that cannot be read back, and wraps ErrUnsupported. Nil if every
// field can be read.
func (s winsockSupport) unreadable() error {
	var fields, opts []string
	add := func(have bool, field, opt string) {
		if !have {
			fields = append(fields, field)
			opts = append(opts, opt)
		}
	}
	add(!s.ioctl(), "Idle", "TCP_KEEPIDLE")
	add(!s.ioctl(), "Interval", "TCP_KEEPINTVL")
	add(s.keepCnt, "Count", "TCP_KEEPCNT")
	add(s.maxRTMS || s.maxRT, "UserTimeout", "TCP_MAXRTMS")
	if fields == nil {
		return nil
	}
	return fmt.Errorf("%w: windows cannot read %s back on this system (no %s)",
		ErrUnsupported, strings.Join(fields, ", "), strings.Join(opts, ", "))
}

// tcpKeepalive is Winsock's struct tcp_keepalive, the argument of
// SIO_KEEPALIVE_VALS. Times are in milliseconds.
type tcpKeepalive struct {
	onoff             uint32
	keepalivetime     uint32
	keepaliveinterval uint32
}

// keepaliveVals returns the SIO_KEEPALIVE_VALS argument that switches
// keepalive on with v's Idle and Interval, in the table's seconds. The ioctl
// sets both at once and nothing can read the socket's current values, so a
// field v leaves zero is taken from def (the system's defaults) rather than
// sent as 0. ok is false if v sets neither: there is nothing to send.
func keepaliveVals(v *values, def Config) (ka tcpKeepalive, ok bool) {
	if !v.set[idle] && !v.set[interval] {
		return tcpKeepalive{}, false
	}
	ms := func(k knob, d time.Duration) uint32 {
		if v.set[k] {
			return uint32(min(int64(v.v[k])*1000, winMaxKeepaliveMilli))
		}
		return millis(d)
	}
	return tcpKeepalive{
		onoff:             1,
		keepalivetime:     ms(idle, orDefault(def.Idle, winDefaultIdle)),
		keepaliveinterval: ms(interval, orDefault(def.Interval, winDefaultInterval)),
	}, true
}

// orDefault returns d, or def if d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// millis converts d to whole milliseconds, rounded up, within the ioctl's
// 1..MaxUint32.
func millis(d time.Duration) uint32 {
	return uint32(max(1, min(roundUp(int64(d), time.Millisecond), winMaxKeepaliveMilli)))
}

// winDefaults is Windows' default keepalive from the registry values
// KeepAliveTime and KeepAliveInterval, in milliseconds (ok false where
// absent), with the documented defaults in their place and Windows' fixed
// probe count. A zero value counts as absent: Windows documents 1 as the
// smallest.
func winDefaults(timeMS, intervalMS uint64, okTime, okInterval bool) Config {
	c := Config{Idle: winDefaultIdle, Interval: winDefaultInterval, Count: winDefaultCount}
	if okTime && timeMS > 0 {
		c.Idle = time.Duration(min(timeMS, winMaxKeepaliveMilli)) * time.Millisecond
	}
	if okInterval && intervalMS > 0 {
		c.Interval = time.Duration(min(intervalMS, winMaxKeepaliveMilli)) * time.Millisecond
	}
	return c
}
