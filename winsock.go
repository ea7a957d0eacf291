package keepalive

import (
	"errors"
	"math"
	"time"
)

// Windows' keepalive machinery, as data and pure arithmetic, so that it is
// unit-tested on every OS; keepalive_windows.go does the system calls and
// checks these numbers against golang.org/x/sys/windows.
//
// Windows 10 1709 and later have per-socket options in seconds:
// TCP_KEEPIDLE (also called TCP_KEEPALIVE) and TCP_KEEPINTVL, and from 1703
// TCP_KEEPCNT; all three can be read back. Older systems, and Wine 8, have
// only the SIO_KEEPALIVE_VALS ioctl: it sets idle and interval together, in
// milliseconds, switches keepalive on, cannot set the probe count (fixed at
// 10 since Vista) and cannot read anything back. Wine 10 has the three
// per-socket options, and no retransmission timeout options. Wine passes
// what it sets, by option or by ioctl, to the host's own options, so on
// Linux the host's limits apply (1..32767 s, 1..127 probes), and the table
// carries them (winsockSupport.wineOnLinux). UserTimeout is TCP_MAXRTMS in milliseconds (from 1607, build
// 14393; Microsoft does not document it, x/sys/windows defines it), or
// TCP_MAXRT in seconds where that is missing.
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

// Windows builds that brought per-socket options.
const (
	winBuild1607 = 14393 // TCP_MAXRTMS
	winBuild1703 = 15063 // TCP_KEEPCNT
	winBuild1709 = 16299 // TCP_KEEPIDLE, TCP_KEEPINTVL
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
	// wineOnLinux: the system is Wine on Linux, which sets every
	// keepalive timing and count on the Linux socket under it, so that
	// Linux's smaller limits apply (wineLinuxMax). Linux refuses a larger
	// value only after Wine has changed others (Wine 8's ioctl switches
	// keepalive on first, and ignores a refused interval), so the table
	// must refuse it before any system call.
	wineOnLinux bool
}

// winsockModern is Windows 10 1709 or later.
var winsockModern = winsockSupport{keepIdle: true, keepIntvl: true, keepCnt: true, maxRTMS: true, maxRT: true}

// detectWinsock finds the per-socket options a system has with set, which
// sets one IPPROTO_TCP option on a throwaway socket. As in Go's net package,
// only noProtoOpt (WSAENOPROTOOPT) means that the option is missing. Any
// other refusal (WSAEINVAL above all) comes from a system that has the
// option: it keeps the per-socket path, and a value it refuses is reported
// by the Apply that sets it, instead of quietly sending every socket through
// the ioctl.
//
// Each probe gets a value that every system having the option accepts
// (Windows' defaults; 60 s for the retransmission timeouts), so that the
// value is not what gets refused.
func detectWinsock(set func(opt, value int) error, noProtoOpt error) winsockSupport {
	has := func(opt, value int) bool { return !errors.Is(set(opt, value), noProtoOpt) }
	return winsockSupport{
		keepIdle:  has(winTCPKeepIdle, int(winDefaultIdle/time.Second)),
		keepIntvl: has(winTCPKeepIntvl, int(winDefaultInterval/time.Second)),
		keepCnt:   has(winTCPKeepCnt, winDefaultCount),
		maxRTMS:   has(winTCPMaxRTMS, 60000),
		maxRT:     has(winTCPMaxRT, 60),
	}
}

// winsockByBuild is what a Windows of this version has, for when no socket
// can be made to probe: TCP_KEEPIDLE and TCP_KEEPINTVL from Windows 10 1709,
// TCP_KEEPCNT from 1703, TCP_MAXRTMS from 1607, TCP_MAXRT on every Windows.
func winsockByBuild(major, build uint32) winsockSupport {
	from := func(b uint32) bool { return major > 10 || major == 10 && build >= b }
	return winsockSupport{
		keepIdle:  from(winBuild1709),
		keepIntvl: from(winBuild1709),
		keepCnt:   from(winBuild1703),
		maxRTMS:   from(winBuild1607),
		maxRT:     true,
	}
}

// ioctl reports whether Idle and Interval are set with SIO_KEEPALIVE_VALS.
func (s winsockSupport) ioctl() bool { return !s.keepIdle || !s.keepIntvl }

// underWine is s as found on a system that Wine runs on host (as Wine names
// it, "Linux"; "" on Windows itself).
func (s winsockSupport) underWine(host string) winsockSupport {
	s.wineOnLinux = host == "Linux"
	return s
}

// wineLinuxMax is the largest value Linux accepts for each option that Wine
// passes to the Linux socket under it (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL,
// MAX_TCP_KEEPCNT in include/net/tcp.h); Windows accepts more. The ioctl
// sets Idle and Interval through the first two.
var wineLinuxMax = map[int]int{winTCPKeepIdle: 32767, winTCPKeepIntvl: 32767, winTCPKeepCnt: 127}

// wineLinux is how a RangeError names the limits of the Linux socket under
// Wine.
const wineLinux = "Wine on Linux"

// limited is o within the host's limits for option opt where s runs on a
// host whose limits are smaller than Windows' own.
func (s winsockSupport) limited(o sockopt, opt int) sockopt {
	if limit, ok := wineLinuxMax[opt]; s.wineOnLinux && ok && limit < o.max {
		o.max, o.host = limit, wineLinux
	}
	return o
}

// platform is the table for a system with s. Idle and Interval are whole
// seconds either way, rounded up as Go rounds them, so that a Config means
// the same on every Windows; the ioctl gets them in milliseconds. No option
// is marked inherited: which ones an accepted socket copies from its
// listener is not documented.
func (s winsockSupport) platform() platform {
	p := platform{goos: "windows"}
	keep := func(name string, opt int) sockopt {
		return s.limited(sockopt{name: name, level: ipprotoTCP, opt: opt, unit: time.Second, min: 1, max: winMaxKeepaliveSeconds}, opt)
	}
	if s.ioctl() {
		// Set through the ioctl, not setsockopt: level and opt are unused.
		ioctl := sockopt{name: "SIO_KEEPALIVE_VALS", unit: time.Second, min: 1, max: winMaxKeepaliveSeconds, byIoctl: true}
		p.knobs[idle] = s.limited(ioctl, winTCPKeepIdle)
		p.knobs[interval] = s.limited(ioctl, winTCPKeepIntvl)
	} else {
		p.knobs[idle] = keep("TCP_KEEPIDLE", winTCPKeepIdle)
		p.knobs[interval] = keep("TCP_KEEPINTVL", winTCPKeepIntvl)
	}
	if s.keepCnt {
		p.knobs[count] = s.limited(sockopt{name: "TCP_KEEPCNT", level: ipprotoTCP, opt: winTCPKeepCnt, min: 1, max: 255}, winTCPKeepCnt)
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
