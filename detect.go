package keepalive

import (
	"fmt"
	"time"
)

// DetectionBound returns how long a connection with c applied takes, at
// most, to notice that its idle peer vanished: Idle + Interval*Count, each
// rounded up to the OS's unit as Apply rounds it. The kernel then drops the
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
	unit := max(p.knobs[idle].unit, p.knobs[interval].unit)
	if p.knobs[idle].name == "" || p.knobs[interval].name == "" || unit <= 0 {
		return Config{}, fmt.Errorf("%w: %s cannot set keepalive timings per socket", ErrUnsupported, p.goos)
	}
	n := int64(d / unit) // whole units available
	// Where the OS fixes the probe count, the timings must fit it.
	count, fixed := min(int64(probesWithin), n-1), p.knobs[count].name == "" && p.fixedCount > 0
	if fixed {
		count = int64(p.fixedCount)
	}
	if n < 1+count || count < 1 {
		return Config{}, &RangeError{Field: "Within", Option: p.knobs[idle].name, OS: p.goos,
			Value: int64(d), Min: int64(time.Duration(1+max(count, 1)) * unit), Max: int64(time.Duration(1<<63 - 1))}
	}
	interval := max(1, n/2/count)
	cfg := Config{
		Idle:     time.Duration(n-interval*count) * unit,
		Interval: time.Duration(interval) * unit,
		Count:    int(count),
	}
	if fixed {
		cfg.Count = 0
	}
	if p.knobs[userTimeout].name != "" {
		cfg.UserTimeout = time.Duration(n) * unit
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
