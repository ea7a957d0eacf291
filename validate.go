package keepalive

import (
	"math"
	"time"
)

// Validate reports whether c is acceptable to this OS, without a system
// call: nil, or the error Apply would return before touching the socket
// (a *RangeError). Apply, ApplyRawConn and Control validate first too, so
// an invalid Config never changes a socket. A field this OS has no
// per-socket option for is no error here: Apply sets the rest and names it
// in an *UnsupportedError. (Solaris before 11.4, which sets Interval and
// Count only as their product, refuses one without the other here, with
// an error matching ErrUnsupported.)
func (c Config) Validate() error {
	_, err := c.values(native)
	return err
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
		if p.jointProbing != nil && (knob(k) == interval || knob(k) == count) {
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
				Min: int64(o.min) * unitOf(o), Max: int64(o.max) * unitOf(o), host: o.host,
			}
		}
		v.v[k] = int(n)
		v.set[k] = true
	}
	if p.jointProbing != nil {
		n, err := p.jointProbing(c, p)
		if err != nil {
			return values{}, err
		}
		v.v[interval], v.set[interval] = n, n != 0
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
		return nothingDone(p, missing, false)
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
