package keepalive

import (
	"math"
	"strconv"
	"time"
)

// A knob is one tunable of Config, in the order Apply sets them.
type knob uint8

const (
	idle knob = iota
	interval
	count
	userTimeout
	numKnobs
)

// The knobs are the Config fields in Fields order: knob k is field bit 1<<k
// and fieldNames[k].
var _ = [1]struct{}{}[len(fieldNames)-int(numKnobs)]

// A sockopt is how one OS implements one knob: a socket option, its unit and
// its limits. The socket options are described as data so that one generic
// get/set path serves every OS, and so that every OS's table, with its
// arithmetic, is unit-tested on any OS.
type sockopt struct {
	name  string        // the OS's name for it, for errors; "" if the OS has none per socket
	level int           // setsockopt level
	opt   int           // setsockopt option name
	unit  time.Duration // what one unit of the value means; 0 for a count
	min   int           // smallest accepted value, in unit
	max   int           // largest accepted value, in unit
	// host, where not "", names the system under the OS whose limits
	// min and max are, smaller than the OS's own ("Wine on Linux"), for
	// errors.
	host string
	// byIoctl: the OS sets this knob not with setsockopt but together
	// with the other byIoctl knobs, in one call that also switches
	// keepalive on and that nothing can read back (Windows'
	// SIO_KEEPALIVE_VALS); level and opt are unused.
	byIoctl bool
	// inherited reports that a socket accepted from a listener starts with
	// the listener's value, so a configured listener needs no system call
	// per accepted connection for this knob.
	inherited bool
}

// A platform is one OS's keepalive machinery.
type platform struct {
	goos  string
	knobs [numKnobs]sockopt
	// userTimeoutEndsProbing, where not nil, is the kernel's rule for an
	// idle connection with a user timeout: that timeout, not the probe
	// count, ends the probing, after as many probe intervals as it returns
	// for the rounded idle time, interval and (positive) user timeout.
	userTimeoutEndsProbing func(idle, interval, userTimeout time.Duration) time.Duration
	// fixedCount is the probe count of an OS that cannot set it per
	// socket (Windows' SIO_KEEPALIVE_VALS: 10), 0 where unknown.
	fixedCount int
	// rearmIdle: the kernel arms its keepalive timer with the idle time
	// just set only while SO_KEEPALIVE is on (XNU), so the idle time is
	// set again once keepalive is on: the value asked, or the socket's own
	// read back. SO_KEEPALIVE still comes after every timing, so a value
	// refused half-way leaves keepalive as it was.
	rearmIdle bool
	// noKeepalive: the OS cannot even switch keepalive on per socket, so
	// nothing can be applied or read (js, wasip1, plan9).
	noKeepalive bool
	// jointProbing, where not nil, validates and converts Interval and
	// Count together, for an OS that takes only how long unanswered
	// probing may last, Interval×Count, through the option, unit and
	// limits of knobs[interval]; knobs[count] is then empty, and neither
	// can be read back. It returns the value for knobs[interval], 0 if c
	// sets neither. (It takes and returns values, not a pointer into the
	// caller's frame, so that Apply stays free of allocations.)
	jointProbing func(c Config, p *platform) (int, error)
	// limits are the kernel's on knobs combined, where it keeps a sum or
	// product of them in one variable of its own.
	limits comboLimits
	// defaults names the sysctls that hold the OS's system-wide
	// keepalive timings, for SystemDefaults, where the OS keeps them in
	// sysctls (the BSDs and Darwin); nil elsewhere.
	defaults *sysctlSpec
	// timers are the defaults of what Health.Predict reads beyond the
	// socket, nil where it knows no rules of this OS.
	timers *kernelTimers
}

// fixedProbes is how many probes p's OS sends, whatever Count says, where
// it has no option for Count but a fixed number; 0 elsewhere.
func fixedProbes(p *platform) int {
	if p.knobs[count].name != "" {
		return 0
	}
	return p.fixedCount
}

// detectionOption names what Idle+Interval*Count is made of on p, for
// errors: "TCP_KEEPIDLE+TCP_KEEPINTVL*TCP_KEEPCNT", the fixed count where
// Count cannot be set, or the option that takes Interval*Count whole.
func detectionOption(p *platform) string {
	if p.jointProbing != nil { // knobs[interval] is Interval*Count already
		return p.knobs[idle].name + "+" + p.knobs[interval].name
	}
	cnt := p.knobs[count].name
	if cnt == "" {
		cnt = strconv.Itoa(fixedProbes(p))
	}
	return p.knobs[idle].name + "+" + p.knobs[interval].name + "*" + cnt
}

// kernelTimers is what Health.Predict needs to know of an OS's TCP timers
// beyond the socket's own values: the settings that the rules of Linux's
// net/ipv4/tcp_timer.c use.
type kernelTimers struct {
	retries2 int           // net.ipv4.tcp_retries2
	rtoMin   time.Duration // TCP_RTO_MIN, the base of tcp_model_timeout
	rtoMax   time.Duration // net.ipv4.tcp_rto_max_ms, TCP_RTO_MAX before Linux 6.15
}

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

// comboLimits bound knobs combined, after rounding to the OS's units; zero
// where the kernel sets no such bound.
type comboLimits struct {
	// probing bounds Interval*Count, how long unanswered probes go on.
	probing time.Duration
	// detection bounds Idle+Interval*Count, the whole detection time.
	detection time.Duration
}

// noLimit is a comboLimits bound that does not bind.
const noLimit = time.Duration(math.MaxInt64)

// probingUnits is l.probing in whole units of unit, rounded down.
func (l comboLimits) probingUnits(unit time.Duration) int64 {
	return orNoLimit(l.probing) / int64(unit)
}

// detectionUnits is l.detection in whole units of unit, rounded down.
func (l comboLimits) detectionUnits(unit time.Duration) int64 {
	return orNoLimit(l.detection) / int64(unit)
}

func orNoLimit(d time.Duration) int64 {
	if d <= 0 {
		return int64(noLimit)
	}
	return int64(d)
}
