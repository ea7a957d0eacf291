package keepalive

import (
	"math"
	"time"
)

// Every OS's keepalive machinery, as data. The option numbers are literals so
// that each table compiles, and is unit-tested, on every OS; the file of the
// OS itself checks them against golang.org/x/sys at compile time.

const ipprotoTCP = 6

// Linux: TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT in seconds and probes,
// limited by MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL and MAX_TCP_KEEPCNT
// (include/net/tcp.h); TCP_USER_TIMEOUT in milliseconds. An accepted socket
// is a copy of its listener (inet_csk_clone_lock), so it starts with all
// four, and SO_KEEPALIVE, as the listener had them.
const (
	linuxTCPKeepIdle    = 0x4
	linuxTCPKeepIntvl   = 0x5
	linuxTCPKeepCnt     = 0x6
	linuxTCPUserTimeout = 0x12
)

var linux = platform{
	goos:                  "linux",
	userTimeoutEndsProbes: true,
	knobs: [numKnobs]sockopt{
		idle:        {name: "TCP_KEEPIDLE", level: ipprotoTCP, opt: linuxTCPKeepIdle, unit: time.Second, min: 1, max: 32767, inherited: true},
		interval:    {name: "TCP_KEEPINTVL", level: ipprotoTCP, opt: linuxTCPKeepIntvl, unit: time.Second, min: 1, max: 32767, inherited: true},
		count:       {name: "TCP_KEEPCNT", level: ipprotoTCP, opt: linuxTCPKeepCnt, min: 1, max: 127, inherited: true},
		userTimeout: {name: "TCP_USER_TIMEOUT", level: ipprotoTCP, opt: linuxTCPUserTimeout, unit: time.Millisecond, min: 1, max: math.MaxInt32, inherited: true},
	},
}

// Darwin (macOS, iOS): TCP_KEEPALIVE is the idle time. TCP_KEEPALIVE and
// TCP_KEEPINTVL are whole seconds kept in milliseconds, up to
// UINT32_MAX/TCP_RETRANSHZ; TCP_KEEPCNT up to INT32_MAX; zero means the
// system default, so the minimum is 1 (bsd/netinet/tcp_usrreq.c).
// TCP_RXT_CONNDROPTIME drops a connection whose retransmissions have gone
// unanswered for that many seconds: the UserTimeout. It too is multiplied
// by 1000 as an int, hence its lower maximum. An accepted socket copies
// TCP_KEEPINTVL and TCP_KEEPCNT from its listener, but not TCP_KEEPALIVE
// nor TCP_RXT_CONNDROPTIME (bsd/netinet/tcp_input.c).
const (
	darwinTCPKeepAlive       = 0x10
	darwinTCPKeepIntvl       = 0x101
	darwinTCPKeepCnt         = 0x102
	darwinTCPRxtConnDropTime = 0x80
	darwinMaxSeconds         = math.MaxUint32 / 1000
	darwinMaxConnDropSeconds = math.MaxInt32 / 1000
)

var darwin = platform{
	goos: "darwin",
	knobs: [numKnobs]sockopt{
		idle:        {name: "TCP_KEEPALIVE", level: ipprotoTCP, opt: darwinTCPKeepAlive, unit: time.Second, min: 1, max: darwinMaxSeconds},
		interval:    {name: "TCP_KEEPINTVL", level: ipprotoTCP, opt: darwinTCPKeepIntvl, unit: time.Second, min: 1, max: darwinMaxSeconds, inherited: true},
		count:       {name: "TCP_KEEPCNT", level: ipprotoTCP, opt: darwinTCPKeepCnt, min: 1, max: math.MaxInt32, inherited: true},
		userTimeout: {name: "TCP_RXT_CONNDROPTIME", level: ipprotoTCP, opt: darwinTCPRxtConnDropTime, unit: time.Second, min: 1, max: darwinMaxConnDropSeconds},
	},
}

// FreeBSD: TCP_KEEPIDLE and TCP_KEEPINTVL in seconds, stored in ticks:
// the kernel refuses more than UINT_MAX/hz, and older callouts take the
// ticks as an int, so the limit is INT_MAX/1000 (hz is 1000 by default). TCP_KEEPCNT is any positive count. There is no
// per-socket user timeout. The syncache copies all three from the listener
// to the accepted socket (sys/netinet/tcp_syncache.c, syncache_socket).
const (
	freebsdTCPKeepIdle  = 0x100
	freebsdTCPKeepIntvl = 0x200
	freebsdTCPKeepCnt   = 0x400
	bsdMaxSeconds       = math.MaxInt32 / 1000
)

var freebsd = platform{
	goos: "freebsd",
	knobs: [numKnobs]sockopt{
		idle:     {name: "TCP_KEEPIDLE", level: ipprotoTCP, opt: freebsdTCPKeepIdle, unit: time.Second, min: 1, max: bsdMaxSeconds, inherited: true},
		interval: {name: "TCP_KEEPINTVL", level: ipprotoTCP, opt: freebsdTCPKeepIntvl, unit: time.Second, min: 1, max: bsdMaxSeconds, inherited: true},
		count:    {name: "TCP_KEEPCNT", level: ipprotoTCP, opt: freebsdTCPKeepCnt, min: 1, max: math.MaxInt32, inherited: true},
	},
}

// DragonFly: FreeBSD's options, numbers and limits; seconds since
// DragonFly 5.8 (milliseconds before), converted to ticks as an int. The
// accepted socket inherits all three (tcp(4)). No user timeout.
var dragonfly = func() platform {
	p := freebsd
	p.goos = "dragonfly"
	return p
}()

// NetBSD: TCP_KEEPIDLE and TCP_KEEPINTVL take the kernel's slow-timeout
// ticks (PR_SLOWHZ is 2, so half seconds), stored as they are and armed as
// ticks*(hz/PR_SLOWHZ), which must fit an int: the limit holds for hz up to
// 1000. TCP_KEEPCNT is any positive count. The SYN cache builds an accepted
// socket from the system defaults, not from its listener
// (sys/netinet/tcp_usrreq.c, tcp_syncache.c). No user timeout.
const (
	netbsdTCPKeepIdle  = 0x3
	netbsdTCPKeepIntvl = 0x5
	netbsdTCPKeepCnt   = 0x6
	netbsdSlowTick     = time.Second / 2
	netbsdMaxTicks     = math.MaxInt32 / (1000 / 2)
)

var netbsd = platform{
	goos: "netbsd",
	knobs: [numKnobs]sockopt{
		idle:     {name: "TCP_KEEPIDLE", level: ipprotoTCP, opt: netbsdTCPKeepIdle, unit: netbsdSlowTick, min: 1, max: netbsdMaxTicks},
		interval: {name: "TCP_KEEPINTVL", level: ipprotoTCP, opt: netbsdTCPKeepIntvl, unit: netbsdSlowTick, min: 1, max: netbsdMaxTicks},
		count:    {name: "TCP_KEEPCNT", level: ipprotoTCP, opt: netbsdTCPKeepCnt, min: 1, max: math.MaxInt32},
	},
}

// OpenBSD has SO_KEEPALIVE only: the timings are the system-wide sysctls
// net.inet.tcp.keepidle and net.inet.tcp.keepintvl, and the probe count is
// fixed (TCPTV_KEEPCNT). Every knob is missing.
var openbsd = platform{goos: "openbsd"}

// illumos: TCP_KEEPIDLE in seconds, within the bounds of the
// tcp_keepalive_interval tunable (1 s to 10 days; 10 s before illumos
// fixed OS-4686). TCP_KEEPINTVL in seconds, between the socket's minimum
// and maximum retransmission timeout (by default 400 ms and 60 s).
// TCP_KEEPCNT is positive; TCP_KEEPINTVL*TCP_KEEPCNT becomes the abort
// threshold, in milliseconds in a uint32, which bounds the count. Setting
// only one of the two derives the other from the 8 minute default abort
// threshold. TCP_ABORT_THRESHOLD, in milliseconds, is how long
// retransmissions may go unanswered before the connection is dropped: the
// UserTimeout (usr/src/uts/common/inet/tcp/tcp_opt_data.c,
// tcp_tunables.c). An accepted socket starts with its listener's values of
// all four (tcp.c, tcp_init_values).
const (
	illumosTCPKeepIdle       = 0x22
	illumosTCPKeepCnt        = 0x23
	illumosTCPKeepIntvl      = 0x24
	illumosTCPAbortThreshold = 0x11
	sunMaxKeepIdle           = 10 * 24 * 60 * 60
	sunMaxKeepCnt            = math.MaxUint32 / 1000
)

var illumos = platform{
	goos: "illumos",
	knobs: [numKnobs]sockopt{
		idle:        {name: "TCP_KEEPIDLE", level: ipprotoTCP, opt: illumosTCPKeepIdle, unit: time.Second, min: 1, max: sunMaxKeepIdle, inherited: true},
		interval:    {name: "TCP_KEEPINTVL", level: ipprotoTCP, opt: illumosTCPKeepIntvl, unit: time.Second, min: 1, max: 60, inherited: true},
		count:       {name: "TCP_KEEPCNT", level: ipprotoTCP, opt: illumosTCPKeepCnt, min: 1, max: sunMaxKeepCnt, inherited: true},
		userTimeout: {name: "TCP_ABORT_THRESHOLD", level: ipprotoTCP, opt: illumosTCPAbortThreshold, unit: time.Millisecond, min: 1, max: math.MaxInt32, inherited: true},
	},
}

// Solaris 11.4 added TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT, in
// seconds and probes, under other numbers than illumos. Earlier releases
// have only TCP_KEEPALIVE_THRESHOLD and TCP_KEEPALIVE_ABORT_THRESHOLD:
// they get the solarisLegacy table instead (solaris_legacy.go). Idle and
// interval are at least 10 seconds, as Go's own tests of Solaris note; the
// other limits follow illumos, with which Solaris shares
// TCP_ABORT_THRESHOLD. Inheritance by accepted sockets is not documented,
// so it is not assumed.
const (
	solarisTCPKeepIdle       = 0x1d
	solarisTCPKeepIntvl      = 0x1e
	solarisTCPKeepCnt        = 0x1f
	solarisTCPAbortThreshold = 0x11
)

var solaris = platform{
	goos: "solaris",
	knobs: [numKnobs]sockopt{
		idle:        {name: "TCP_KEEPIDLE", level: ipprotoTCP, opt: solarisTCPKeepIdle, unit: time.Second, min: 10, max: sunMaxKeepIdle},
		interval:    {name: "TCP_KEEPINTVL", level: ipprotoTCP, opt: solarisTCPKeepIntvl, unit: time.Second, min: 10, max: sunMaxKeepIdle},
		count:       {name: "TCP_KEEPCNT", level: ipprotoTCP, opt: solarisTCPKeepCnt, min: 1, max: sunMaxKeepCnt},
		userTimeout: {name: "TCP_ABORT_THRESHOLD", level: ipprotoTCP, opt: solarisTCPAbortThreshold, unit: time.Millisecond, min: 1, max: math.MaxInt32},
	},
}

// AIX: TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT in seconds and probes.
// AIX counts its system-wide timings in half seconds, so the limit keeps a
// doubled value within an int. No user timeout; inheritance is not documented, so it is
// not assumed.
const (
	aixTCPKeepIdle  = 0x11
	aixTCPKeepIntvl = 0x12
	aixTCPKeepCnt   = 0x13
	aixMaxSeconds   = math.MaxInt32 / 2
)

var aix = platform{
	goos: "aix",
	knobs: [numKnobs]sockopt{
		idle:     {name: "TCP_KEEPIDLE", level: ipprotoTCP, opt: aixTCPKeepIdle, unit: time.Second, min: 1, max: aixMaxSeconds},
		interval: {name: "TCP_KEEPINTVL", level: ipprotoTCP, opt: aixTCPKeepIntvl, unit: time.Second, min: 1, max: aixMaxSeconds},
		count:    {name: "TCP_KEEPCNT", level: ipprotoTCP, opt: aixTCPKeepCnt, min: 1, max: math.MaxInt32},
	},
}

// Where the system-wide defaults live, for SystemDefaults. Darwin, FreeBSD
// and DragonFly show the timings in milliseconds (sysctl_msec_to_ticks).
// NetBSD shows slow-timeout ticks, as many per second as
// net.inet.tcp.slowhz says. OpenBSD shows ticks with a
// net.inet.tcp.slowhz sysctl on older releases and seconds on newer ones,
// which dropped it, and always probes TCPTV_KEEPCNT (8) times.
var (
	darwinDefaults    = sysctlSpec{idle: "net.inet.tcp.keepidle", interval: "net.inet.tcp.keepintvl", count: "net.inet.tcp.keepcnt", unit: time.Millisecond}
	freebsdDefaults   = sysctlSpec{idle: "net.inet.tcp.keepidle", interval: "net.inet.tcp.keepintvl", count: "net.inet.tcp.keepcnt", unit: time.Millisecond}
	dragonflyDefaults = freebsdDefaults
	netbsdDefaults    = sysctlSpec{idle: "net.inet.tcp.keepidle", interval: "net.inet.tcp.keepintvl", count: "net.inet.tcp.keepcnt", unit: netbsdSlowTick, slowhz: "net.inet.tcp.slowhz"}
	openbsdDefaults   = sysctlSpec{idle: "net.inet.tcp.keepidle", interval: "net.inet.tcp.keepintvl", fixedCount: 8, unit: time.Second, slowhz: "net.inet.tcp.slowhz"}
)
