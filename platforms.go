package keepalive

import (
	"math"
	"time"
)

// Every OS's keepalive machinery, as data. The option numbers are literals so
// that each table compiles, and is unit-tested, on every OS; the file of the
// OS itself checks them against golang.org/x/sys at compile time, where x/sys
// has them. It does not have:
//   - Solaris 11.4's TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT (0x1d,
//     0x1e, 0x1f): x/sys's solaris port carries illumos's numbers;
//   - FreeBSD's TCP_MAXUNACKTIME (0x44) except on freebsd/riscv64, where it
//     is checked;
//   - Windows' SO_PROTOCOL_INFOW (0x2005), SIO_TCP_INFO (0xD8000027) and
//     the TCP_INFO_v0 layout, which keepalive_windows.go and
//     health_windows.go pin to Microsoft's documented numbers instead
//     (SIO_KEEPALIVE_VALS and its struct are checked against x/sys).
//
// Every limit below cites the kernel source that sets it. Where a kernel
// keeps Interval*Count, or Idle+Interval*Count, in one variable of its own,
// the table's limits field bounds that too (it overflows otherwise), with
// hz, where the kernel counts in ticks, at its default of 1000.

const ipprotoTCP = 6

// Linux: TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT in seconds and probes,
// limited by MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL and MAX_TCP_KEEPCNT
// (include/net/tcp.h); TCP_USER_TIMEOUT in milliseconds. An accepted socket
// is a copy of its listener (inet_csk_clone_lock), so it starts with all
// four, and SO_KEEPALIVE, as the listener had them.
//
// With TCP_USER_TIMEOUT set, the keepalive timer drops an idle connection
// at the first firing after the first probe at which the user timeout has
// passed since the last segment received, instead of after TCP_KEEPCNT
// probes (net/ipv4/tcp_timer.c, tcp_keepalive_timer): linuxProbing.
const (
	linuxTCPKeepIdle    = 0x4
	linuxTCPKeepIntvl   = 0x5
	linuxTCPKeepCnt     = 0x6
	linuxTCPUserTimeout = 0x12
)

var linux = platform{
	goos:                   "linux",
	userTimeoutEndsProbing: linuxProbing,
	timers:                 &linuxTimers,
	knobs: [numKnobs]sockopt{
		idle:        {name: "TCP_KEEPIDLE", level: ipprotoTCP, opt: linuxTCPKeepIdle, unit: time.Second, min: 1, max: 32767, inherited: true},
		interval:    {name: "TCP_KEEPINTVL", level: ipprotoTCP, opt: linuxTCPKeepIntvl, unit: time.Second, min: 1, max: 32767, inherited: true},
		count:       {name: "TCP_KEEPCNT", level: ipprotoTCP, opt: linuxTCPKeepCnt, min: 1, max: 127, inherited: true},
		userTimeout: {name: "TCP_USER_TIMEOUT", level: ipprotoTCP, opt: linuxTCPUserTimeout, unit: time.Millisecond, min: 1, max: math.MaxInt32, inherited: true},
	},
}

// linuxProbing is how many probe intervals Linux's keepalive timer lets pass
// with a user timeout: it fires at idle (the first probe), then every
// interval, and drops the connection at the first firing after the first
// at which the user timeout has passed.
func linuxProbing(idle, interval, userTimeout time.Duration) time.Duration {
	return max(1, (userTimeout-idle+interval-1)/interval)
}

// linuxTimers are Linux's defaults for what Health.Predict reads beyond the
// socket: tcp_retries2 15 (TCP_RETR2), TCP_RTO_MIN 200 ms and TCP_RTO_MAX
// 120 s (include/net/tcp.h); predict_linux.go reads this system's settings
// over them.
var linuxTimers = kernelTimers{retries2: 15, rtoMin: 200 * time.Millisecond, rtoMax: 120 * time.Second}

// Darwin (macOS, iOS): TCP_KEEPALIVE is the idle time. TCP_KEEPALIVE and
// TCP_KEEPINTVL are whole seconds kept in milliseconds: setsockopt accepts
// up to UINT32_MAX/TCP_RETRANSHZ, but the timer list compares offsets as
// int32 milliseconds (bsd/netinet/tcp_timer.c, timer_diff), so a value
// above INT32_MAX/1000 seconds fires at once; that is the limit.
// TCP_KEEPCNT up to INT32_MAX; zero means the system default, so the
// minimum is 1 (bsd/netinet/tcp_usrreq.c, tcp_ctloutput). The keepalive
// timer drops the connection once it has been idle for
// TCP_CONN_KEEPIDLE + TCP_CONN_MAXIDLE, the latter TCP_KEEPCNT times
// TCP_KEEPINTVL, all uint32 milliseconds (bsd/netinet/tcp_timer.h;
// tcp_timer.c, tcp_timers, case TCPT_KEEP): Interval*Count and
// Idle+Interval*Count must fit, else they wrap and the connection is
// dropped early.
//
// TCP_RXT_CONNDROPTIME drops a connection whose retransmissions have gone
// unanswered for that many seconds: the UserTimeout. It too is multiplied
// by 1000 as an int, hence the same maximum. An accepted socket copies
// TCP_KEEPINTVL and TCP_KEEPCNT from its listener, but not TCP_KEEPALIVE
// nor TCP_RXT_CONNDROPTIME (bsd/netinet/tcp_input.c).
//
// Setting TCP_KEEPALIVE re-arms the keepalive timer with
// TCP_CONN_KEEPIDLE, which is the system's tcp_keepidle, not the value
// just set, while SO_KEEPALIVE is off (tcp_usrreq.c, case TCP_KEEPALIVE;
// tcp_timer.h, TCP_CONN_KEEPIDLE); switching SO_KEEPALIVE on later only
// flips the flag (bsd/kern/uipc_socket.c, sosetoptlock): Apply would leave
// the first probe at the system's 2 hours. So the idle time is set again
// once keepalive is on (rearmIdle), and SO_KEEPALIVE still follows every
// timing.
const (
	darwinTCPKeepAlive       = 0x10
	darwinTCPKeepIntvl       = 0x101
	darwinTCPKeepCnt         = 0x102
	darwinTCPRxtConnDropTime = 0x80
	darwinMaxSeconds         = math.MaxInt32 / 1000
)

var darwin = platform{
	goos:      "darwin",
	defaults:  &darwinDefaults,
	rearmIdle: true,
	knobs: [numKnobs]sockopt{
		idle:        {name: "TCP_KEEPALIVE", level: ipprotoTCP, opt: darwinTCPKeepAlive, unit: time.Second, min: 1, max: darwinMaxSeconds},
		interval:    {name: "TCP_KEEPINTVL", level: ipprotoTCP, opt: darwinTCPKeepIntvl, unit: time.Second, min: 1, max: darwinMaxSeconds, inherited: true},
		count:       {name: "TCP_KEEPCNT", level: ipprotoTCP, opt: darwinTCPKeepCnt, min: 1, max: math.MaxInt32, inherited: true},
		userTimeout: {name: "TCP_RXT_CONNDROPTIME", level: ipprotoTCP, opt: darwinTCPRxtConnDropTime, unit: time.Second, min: 1, max: darwinMaxSeconds},
	},
	limits: comboLimits{probing: math.MaxUint32 * time.Millisecond, detection: math.MaxUint32 * time.Millisecond},
}

// FreeBSD: TCP_KEEPIDLE and TCP_KEEPINTVL in seconds, stored in u_int
// ticks: the kernel refuses more than UINT_MAX/hz, and older callouts take
// the ticks as an int, so the limit is INT_MAX/1000 (hz is 1000 by
// default). TCP_KEEPCNT is any u_int; zero is refused here, as it means
// the system default nowhere (sys/netinet/tcp_usrreq.c,
// tcp_default_ctloutput). The keepalive timer drops the connection once it
// has been idle for TP_KEEPIDLE + TP_MAXIDLE, the latter TP_KEEPCNT times
// TP_KEEPINTVL, all u_int ticks (tcp_timer.h; tcp_timer.c,
// tcp_timer_keep): Interval*Count and Idle+Interval*Count must stay within
// UINT_MAX ticks.
//
// FreeBSD 14 added TCP_MAXUNACKTIME, seconds without any progress (no byte
// acknowledged) after which the connection is dropped, which the Linux
// emulation maps TCP_USER_TIMEOUT to: the UserTimeout. It takes the same
// path and limit as TCP_KEEPIDLE (tcp_default_ctloutput), and the
// retransmission and persist timers of the default stack compare it with
// int tick arithmetic (tcp_timer.c, tcp_maxunacktime_check, TSTMP_GT),
// hence the same INT_MAX/1000 seconds; older releases
// answer ENOPROTOOPT, which Apply reports as ErrUnsupported. The syncache
// copies all four from the listener to the accepted socket
// (sys/netinet/tcp_syncache.c, syncache_socket). Setting TCP_KEEPIDLE
// re-arms the keepalive timer with the new value whether or not
// SO_KEEPALIVE is on, so the order of the calls does not matter here.
const (
	freebsdTCPKeepIdle      = 0x100
	freebsdTCPKeepIntvl     = 0x200
	freebsdTCPKeepCnt       = 0x400
	freebsdTCPMaxUnackTime  = 0x44
	bsdMaxSeconds           = math.MaxInt32 / 1000
	freebsdMaxTicksAt1000Hz = math.MaxUint32 * time.Millisecond
)

var freebsd = platform{
	goos:     "freebsd",
	defaults: &freebsdDefaults,
	knobs: [numKnobs]sockopt{
		idle:        {name: "TCP_KEEPIDLE", level: ipprotoTCP, opt: freebsdTCPKeepIdle, unit: time.Second, min: 1, max: bsdMaxSeconds, inherited: true},
		interval:    {name: "TCP_KEEPINTVL", level: ipprotoTCP, opt: freebsdTCPKeepIntvl, unit: time.Second, min: 1, max: bsdMaxSeconds, inherited: true},
		count:       {name: "TCP_KEEPCNT", level: ipprotoTCP, opt: freebsdTCPKeepCnt, min: 1, max: math.MaxInt32, inherited: true},
		userTimeout: {name: "TCP_MAXUNACKTIME", level: ipprotoTCP, opt: freebsdTCPMaxUnackTime, unit: time.Second, min: 1, max: bsdMaxSeconds, inherited: true},
	},
	limits: comboLimits{probing: freebsdMaxTicksAt1000Hz, detection: freebsdMaxTicksAt1000Hz},
}

// DragonFly: FreeBSD's TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT, numbers
// and per-knob limits, without TCP_MAXUNACKTIME. The kernel keeps them as
// int ticks, t_maxidle = t_keepintvl*t_keepcnt among them, and drops an
// idle connection at t_keepidle + t_maxidle (sys/netinet/tcp_usrreq.c,
// tcp_ctloutput; tcp_timer.c, tcp_timer_keep_handler): both must fit an int
// of ticks. The accepted socket inherits all three (tcp(4)).
//
// DragonFly before 5.8 (kern.osreldate 500702) took the three in
// milliseconds (tcp_ctloutput: optval * hz / 1000), so seconds would be
// 1000 times too short there: such a kernel gets dragonflyLegacy, chosen at
// start-up as libuv decides, which sets no timing per socket.
const dragonflySecondsOSRelDate = 500702

var dragonfly = func() platform {
	p := freebsd
	p.goos = "dragonfly"
	p.defaults = &dragonflyDefaults
	p.knobs[userTimeout] = sockopt{}
	p.limits = comboLimits{probing: math.MaxInt32 * time.Millisecond, detection: math.MaxInt32 * time.Millisecond}
	return p
}()

// dragonflyLegacy is DragonFly before 5.8: keepalive on and off only, every
// timing reported unsupported, as on OpenBSD.
var dragonflyLegacy = platform{goos: "dragonfly", defaults: &dragonflyDefaults}

// dragonflyCountsSeconds reports whether a DragonFly kernel whose
// kern.osreldate is osreldate takes its keepalive options in seconds.
func dragonflyCountsSeconds(osreldate uint32) bool {
	return osreldate >= dragonflySecondsOSRelDate
}

// NetBSD: TCP_KEEPIDLE and TCP_KEEPINTVL take the kernel's slow-timeout
// ticks (PR_SLOWHZ is 2, so half seconds), stored as they are and armed as
// ticks*(hz/PR_SLOWHZ), which must fit an int: the limit holds for hz up to
// 1000. TCP_KEEPCNT is any positive count (sys/netinet/tcp_usrreq.c,
// tcp_ctloutput). change_keepalive keeps t_maxidle = t_keepcnt*t_keepintvl
// in a u_int, unchecked, and the keepalive timer drops the connection once
// it has been idle for t_keepidle + t_maxidle slow ticks, never if
// t_maxidle wrapped to 0 (tcp_timer.c, tcp_timer_keep): both must fit a
// u_int of half seconds. The SYN cache builds an accepted socket from the
// system defaults, not from its listener (tcp_syncache.c). No user
// timeout. Setting an option re-arms the timer with TCP_KEEPIDLE while
// SO_KEEPALIVE is off, so the order of the calls does not matter here.
//
// Go's own net.TCPConn.SetKeepAliveConfig passes seconds to these options,
// so on NetBSD it (and anything built from Config.KeepAliveConfig) sets
// half the times asked; Apply converts to half seconds and sets what is
// asked.
const (
	netbsdTCPKeepIdle  = 0x3
	netbsdTCPKeepIntvl = 0x5
	netbsdTCPKeepCnt   = 0x6
	netbsdSlowTick     = time.Second / 2
	netbsdMaxTicks     = math.MaxInt32 / (1000 / 2)
	netbsdMaxIdleTicks = math.MaxUint32 * netbsdSlowTick
)

var netbsd = platform{
	goos:     "netbsd",
	defaults: &netbsdDefaults,
	knobs: [numKnobs]sockopt{
		idle:     {name: "TCP_KEEPIDLE", level: ipprotoTCP, opt: netbsdTCPKeepIdle, unit: netbsdSlowTick, min: 1, max: netbsdMaxTicks},
		interval: {name: "TCP_KEEPINTVL", level: ipprotoTCP, opt: netbsdTCPKeepIntvl, unit: netbsdSlowTick, min: 1, max: netbsdMaxTicks},
		count:    {name: "TCP_KEEPCNT", level: ipprotoTCP, opt: netbsdTCPKeepCnt, min: 1, max: math.MaxInt32},
	},
	limits: comboLimits{probing: netbsdMaxIdleTicks, detection: netbsdMaxIdleTicks},
}

// OpenBSD has SO_KEEPALIVE only: the timings are the system-wide sysctls
// net.inet.tcp.keepidle and net.inet.tcp.keepintvl, and the probe count is
// fixed (TCPTV_KEEPCNT). Every knob is missing.
var openbsd = platform{goos: "openbsd", defaults: &openbsdDefaults}

// illumos: TCP_KEEPIDLE in seconds, within the bounds of the
// tcp_keepalive_interval tunable (1 s to 10 days; 10 s before illumos
// fixed OS-4686). TCP_KEEPINTVL in seconds, between the socket's minimum
// and maximum retransmission timeout (by default 400 ms and 60 s).
// TCP_KEEPCNT is any positive count: the kernel checks no limit on it
// alone. TCP_KEEPINTVL*TCP_KEEPCNT*1000 becomes the abort threshold, the
// milliseconds unanswered probes may go on, computed in a uint32 that
// wraps; its range check against tcp_keepalive_abort_interval_high
// (UINT32_MAX) can then never fail (usr/src/uts/common/inet/tcp/
// tcp_opt_data.c, tcp_opt_set, cases TCP_KEEPCNT and TCP_KEEPINTVL), so
// Interval 60 s × Count 71583 would hold 12.7 s. The product is therefore
// limited to UINT32_MAX milliseconds, and Count's own maximum is that
// product at the smallest Interval, 1 s. The keepalive timer drops the
// connection once it has been idle for the idle time plus the abort
// threshold, a uint32 sum of milliseconds (tcp_timers.c,
// tcp_keepalive_timer), which is limited the same way. Setting only one of
// TCP_KEEPINTVL and TCP_KEEPCNT derives the other from the 8 minute
// default abort threshold. TCP_ABORT_THRESHOLD, in milliseconds, is how
// long retransmissions may go unanswered before the connection is dropped:
// the UserTimeout (tcp_opt_data.c, tcp_tunables.c). A fresh socket reads
// it as the tcp_ip_abort_interval tunable (8 minutes by default), not 0.
// An accepted socket starts with its listener's values of all four (tcp.c,
// tcp_init_values). Switching SO_KEEPALIVE on starts the keepalive timer
// with the idle time already set (tcp_opt_set, case SO_KEEPALIVE), so the
// order of the calls does not matter here.
const (
	illumosTCPKeepIdle       = 0x22
	illumosTCPKeepCnt        = 0x23
	illumosTCPKeepIntvl      = 0x24
	illumosTCPAbortThreshold = 0x11
	sunMaxKeepIdle           = 10 * 24 * 60 * 60
	sunMaxKeepCnt            = math.MaxUint32 / 1000
	sunMaxAbortThreshold     = math.MaxUint32 * time.Millisecond
)

var illumos = platform{
	goos: "illumos",
	knobs: [numKnobs]sockopt{
		idle:        {name: "TCP_KEEPIDLE", level: ipprotoTCP, opt: illumosTCPKeepIdle, unit: time.Second, min: 1, max: sunMaxKeepIdle, inherited: true},
		interval:    {name: "TCP_KEEPINTVL", level: ipprotoTCP, opt: illumosTCPKeepIntvl, unit: time.Second, min: 1, max: 60, inherited: true},
		count:       {name: "TCP_KEEPCNT", level: ipprotoTCP, opt: illumosTCPKeepCnt, min: 1, max: sunMaxKeepCnt, inherited: true},
		userTimeout: {name: "TCP_ABORT_THRESHOLD", level: ipprotoTCP, opt: illumosTCPAbortThreshold, unit: time.Millisecond, min: 1, max: math.MaxInt32, inherited: true},
	},
	limits: comboLimits{probing: sunMaxAbortThreshold, detection: sunMaxAbortThreshold},
}

// Solaris 11.4 added TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT, in
// seconds and probes, under other numbers than illumos. Earlier releases
// have only TCP_KEEPALIVE_THRESHOLD and TCP_KEEPALIVE_ABORT_THRESHOLD:
// they get the solarisLegacy table instead (solaris_legacy.go). Idle and
// interval are at least 10 seconds, as Go's own tests of Solaris note; the
// other limits follow illumos, with which Solaris shares
// TCP_ABORT_THRESHOLD and, from OpenSolaris, the abort threshold's uint32
// arithmetic: the same limits on Interval*Count and Idle+Interval*Count.
// Inheritance by accepted sockets is not documented, so it is not assumed.
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
	limits: comboLimits{probing: sunMaxAbortThreshold, detection: sunMaxAbortThreshold},
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
