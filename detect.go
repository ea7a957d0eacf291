package keepalive

import (
	"fmt"
	"time"
)

// DetectionBound returns how long a connection with c applied takes to
// notice that its idle peer vanished: Idle + Interval*Count, each rounded up
// to the OS's unit as Apply rounds it. It is the kernel's schedule: the
// measured detection lands just after it (1.01 to 1.03 times it on Linux),
// by timer slack and the wake-up of the blocked Read. The kernel then drops the
// connection and a blocked Read fails with an error for which [IsDeadPeer]
// reports true.
//
// It returns 0 when Idle, Interval or Count is zero, since the socket's own
// value then counts: use [Get] to learn it, and State.DetectionBound. Where
// the OS probes a fixed number of times (Windows without TCP_KEEPCNT: 10),
// that number counts instead of Count.
//
// The bound covers an idle connection. While sent data is unacknowledged
// the kernel sends no keepalive probes; UserTimeout bounds that case. On
// Linux a non-zero UserTimeout also takes the place of Count for an idle
// connection: it is dropped at the first probe interval that ends after
// UserTimeout, so a UserTimeout below Idle + Interval*Count shortens the
// bound and one above it lengthens it. [Within] sets them equal.
func (c Config) DetectionBound() time.Duration {
	return c.detectionBound(native)
}

func (c Config) detectionBound(p *platform) time.Duration {
	if p.knobs[count].name == "" && p.fixedCount > 0 {
		// The OS probes a fixed number of times, whatever Count says.
		c.Count = p.fixedCount
	}
	if c.Idle <= 0 || c.Interval <= 0 || c.Count <= 0 {
		return 0
	}
	if _, err := c.values(p); err != nil {
		return 0 // out of range: no bound, and no overflow below
	}
	round := func(d time.Duration, k knob) time.Duration {
		u := p.knobs[k].unit
		if u <= 0 {
			return d
		}
		return time.Duration(roundUp(int64(d), u)) * u
	}
	idle, interval := round(c.Idle, idle), round(c.Interval, interval)
	probes := time.Duration(c.Count)
	if p.userTimeoutEndsProbes && c.UserTimeout > 0 {
		// The timer fires at Idle (first probe), then every Interval; at
		// each of those after the first it drops the connection once
		// UserTimeout has passed since the last segment received.
		ut := round(c.UserTimeout, userTimeout)
		probes = max(1, (ut-idle+interval-1)/interval)
	}
	return idle + interval*probes
}

// probesWithin is how many unanswered probes Within allows before it
// declares the peer dead: enough that one or two probes lost on a flaky
// network do not kill a healthy connection.
const probesWithin = 3

// Within returns a Config that detects a dead peer within d, whether the
// connection is idle or has data in flight.
//
// Half of d is spent idle before the first probe and the other half on up to
// three probes, so one or two lost probes do not kill a healthy connection.
// UserTimeout is set to d as well, as recommended for TCP_USER_TIMEOUT:
// equal to Idle + Interval*Count, so that neither mechanism cuts the other
// short. Values are whole multiples of the OS's unit, so the bound holds
// after rounding.
//
// The price of a small d is probe traffic (one small segment per Interval
// per idle connection) and false positives: a network outage longer than d
// kills connections that would have survived it. Error if d is too short
// for this OS (2 s on Linux) or too long for its limits.
func Within(d time.Duration) (Config, error) {
	return within(d, native)
}

func within(d time.Duration, p *platform) (Config, error) {
	ik, vk := &p.knobs[idle], &p.knobs[interval]
	unit := max(ik.unit, vk.unit)
	if ik.name == "" || vk.name == "" || unit <= 0 {
		return Config{}, fmt.Errorf("%w: %s cannot set keepalive timings per socket", ErrUnsupported, p.goos)
	}
	// Everything below counts whole units; the knobs' limits too.
	inUnits := func(o *sockopt, n int) int64 { return roundUp(int64(n)*int64(o.unit), unit) }
	idleMin, idleMax := inUnits(ik, ik.min), int64(ik.max)*int64(ik.unit)/int64(unit)
	ivlMin, ivlMax := inUnits(vk, vk.min), int64(vk.max)*int64(vk.unit)/int64(unit)
	n := int64(d / unit)

	// Up to three probes, as many as fit; where the OS fixes the count,
	// the timings must fit that.
	count, fixed := min(int64(probesWithin), (n-idleMin)/ivlMin), p.knobs[count].name == "" && p.fixedCount > 0
	if fixed {
		count = int64(p.fixedCount)
	}
	if count < 1 || n < idleMin+count*ivlMin {
		least := time.Duration(idleMin+max(count, 1)*ivlMin) * unit
		return Config{}, fmt.Errorf("%w: keepalive: cannot detect a dead peer within %v on %s: it takes at least %v", ErrOutOfRange, d, p.goos, least)
	}
	// Half the time idle, half probing, within the OS's limits; an OS
	// that cannot idle that long gets a shorter, still valid, bound.
	ivl := min(max(n/2/count, ivlMin), ivlMax, (n-idleMin)/count)
	idleN := min(n-ivl*count, idleMax)
	cfg := Config{
		Idle:     time.Duration(idleN) * unit,
		Interval: time.Duration(ivl) * unit,
		Count:    int(count),
	}
	if fixed {
		cfg.Count = 0
	}
	if p.knobs[userTimeout].name != "" {
		cfg.UserTimeout = time.Duration(idleN+ivl*count) * unit
	}
	if _, err := cfg.values(p); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// DetectionBound is Config.DetectionBound for the values the socket holds:
// 0 if keepalive is off.
func (s State) DetectionBound() time.Duration {
	if !s.Enabled {
		return 0
	}
	return s.Config.DetectionBound()
}

// IsDeadPeer reports whether err says the kernel dropped the connection
// because the peer stopped answering: keepalive probes went unanswered, or
// sent data stayed unacknowledged for longer than UserTimeout. That is
// ETIMEDOUT on Unix and WSAETIMEDOUT on Windows. A deadline set with
// SetDeadline is not a dead peer: os.ErrDeadlineExceeded does not match.
func IsDeadPeer(err error) bool {
	return err != nil && isTimedOut(err)
}
