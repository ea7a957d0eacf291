package keepalive

import (
	"math"
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

// fieldNames are the Config field names of the knobs, for errors.
var fieldNames = [numKnobs]string{"Idle", "Interval", "Count", "UserTimeout"}

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
	// userTimeoutEndsProbes: a non-zero user timeout, not the probe count,
	// decides when unanswered keepalive probes drop a connection (Linux's
	// tcp_keepalive_timer).
	userTimeoutEndsProbes bool
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
	// intervalTimesCount: Interval and Count cannot be set separately, only
	// how long unanswered probing may last, Interval×Count, through the
	// option, unit and limits of knobs[interval] (Solaris before 11.4:
	// TCP_KEEPALIVE_ABORT_THRESHOLD); knobs[count] is empty. values then
	// takes Interval and Count together or not at all (probeTime).
	intervalTimesCount bool
	// limits are the kernel's on knobs combined, where it keeps a sum or
	// product of them in one variable of its own.
	limits comboLimits
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

// values is a validated Config in the OS's units, ready for setsockopt.
type values struct {
	v   [numKnobs]int
	set [numKnobs]bool
	// missing lists the non-zero fields this OS cannot set per socket.
	missing [numKnobs]bool
}

// values validates c against p and converts it to p's units. A duration is
// rounded up to the unit, as Go's own SetKeepAliveConfig does, so 1ms
// becomes 1s where the unit is a second.
func (c Config) values(p *platform) (values, error) {
	var v values
	fields := [numKnobs]int64{int64(c.Idle), int64(c.Interval), int64(c.Count), int64(c.UserTimeout)}
	for k, x := range fields {
		if x == 0 {
			continue
		}
		o := &p.knobs[k]
		if x < 0 {
			return values{}, &RangeError{Field: fieldNames[k], Option: o.name, OS: p.goos, Value: x}
		}
		if p.intervalTimesCount && (knob(k) == interval || knob(k) == count) {
			continue // below, together
		}
		if o.name == "" {
			v.missing[k] = true
			continue
		}
		n := roundUp(x, o.unit)
		if n < int64(o.min) || n > int64(o.max) {
			return values{}, &RangeError{
				Field: fieldNames[k], Option: o.name, OS: p.goos, Value: x,
				Min: int64(o.min) * unitOf(o), Max: int64(o.max) * unitOf(o),
			}
		}
		v.v[k] = int(n)
		v.set[k] = true
	}
	if p.intervalTimesCount {
		if err := c.probeTime(p, &v); err != nil {
			return values{}, err
		}
	}
	if err := p.limits.check(p, &v); err != nil {
		return values{}, err
	}
	return v, nil
}

// check reports a *RangeError if v's Interval*Count, or Idle+Interval*Count,
// exceeds l. Only fields that v sets take part: a product or sum with a
// field left to the socket involves a value not known before the system
// call, and is not checked.
func (l comboLimits) check(p *platform, v *values) error {
	if !v.set[interval] || !v.set[count] {
		return nil
	}
	ik, vk, ck := &p.knobs[idle], &p.knobs[interval], &p.knobs[count]
	u := vk.unit
	// In units of u; both factors are at most MaxInt32, so no overflow.
	probing := int64(v.v[interval]) * int64(v.v[count])
	if l.probing > 0 && probing > l.probingUnits(u) {
		return &RangeError{
			Field: "Interval*Count", Option: vk.name + "*" + ck.name, OS: p.goos,
			Value: saturatingMul(probing, int64(u)),
			Min:   int64(vk.min) * int64(u) * int64(ck.min), Max: l.probingUnits(u) * int64(u),
		}
	}
	if l.detection <= 0 || !v.set[idle] {
		return nil
	}
	idleNanos := int64(v.v[idle]) * int64(ik.unit)
	if rest := int64(l.detection) - idleNanos; rest < 0 || probing > rest/int64(u) {
		return &RangeError{
			Field: "Idle+Interval*Count", Option: detectionOption(p), OS: p.goos,
			Value: saturatingAdd(idleNanos, saturatingMul(probing, int64(u))),
			Min:   int64(ik.min)*int64(ik.unit) + int64(vk.min)*int64(u)*int64(ck.min),
			Max:   l.detectionUnits(u) * int64(u),
		}
	}
	return nil
}

// saturatingMul is a*b for non-negative a and b, or MaxInt64 where that
// overflows.
func saturatingMul(a, b int64) int64 {
	if b != 0 && a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

// saturatingAdd is a+b for non-negative a and b, or MaxInt64 where that
// overflows.
func saturatingAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// shortfall is the outcome of applying v on p, keepalive switched on: nil
// if the socket holds every field asked, else an *UnsupportedError naming
// the fields p has no option for and those in lacking, which this socket
// refused as options it does not have (the first refusal is err).
func (v *values) shortfall(p *platform, lacking Fields, err error) error {
	missing := fieldsOf(&v.missing)
	if p.noKeepalive {
		return nothingDone(p, opApply, missing)
	}
	if missing == 0 && lacking == 0 {
		return nil
	}
	why := whyNoOption
	if lacking != 0 {
		why = whyNotHere
	}
	return &UnsupportedError{
		OS: p.goos, Set: fieldsOf(&v.set) &^ lacking, Missing: missing | lacking,
		Enabled: true, Err: err, why: why,
	}
}

// roundUp converts x nanoseconds to whole units, rounding up; a count
// (unit 0) is returned as it is. It cannot overflow.
func roundUp(x int64, unit time.Duration) int64 {
	if unit == 0 {
		return x
	}
	n := x / int64(unit)
	if x%int64(unit) != 0 {
		n++
	}
	return n
}

// fromUnit converts a value read from the OS back to a Config field.
func fromUnit(n int, unit time.Duration) int64 {
	if unit == 0 {
		return int64(n)
	}
	return int64(n) * int64(unit)
}

func unitOf(o *sockopt) int64 {
	if o.unit == 0 {
		return 1
	}
	return int64(o.unit)
}

// setField stores a value read from the OS into the matching Config field.
func (c *Config) setField(k knob, x int64) {
	switch k {
	case idle:
		c.Idle = time.Duration(x)
	case interval:
		c.Interval = time.Duration(x)
	case count:
		c.Count = int(x)
	case userTimeout:
		c.UserTimeout = time.Duration(x)
	}
}
