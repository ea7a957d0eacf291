package keepalive

import (
	"errors"
	"fmt"
	"net"
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
// An invalid Config has no bound: the error is Validate's (a *RangeError),
// and the duration 0. A valid Config that leaves Idle, Interval or Count
// zero returns 0 and a nil error: the socket's own value then counts, so
// use [Get] to learn it, and State.DetectionBound. So does one that sets a
// timing this OS cannot set per socket (OpenBSD, DragonFly before 5.8,
// js, wasip1, plan9: the system-wide value counts there). Where the OS
// probes a fixed number of times (Windows without TCP_KEEPCNT: 10), that
// number counts instead of Count. A bound beyond the largest
// time.Duration, about 292 years, is that largest Duration (only AIX,
// which limits no product of the fields, accepts such a Config).
//
// The bound covers an idle connection. While sent data is unacknowledged
// the kernel sends no keepalive probes; UserTimeout bounds that case. On
// Linux a non-zero UserTimeout also takes the place of Count for an idle
// connection: it is dropped at the end of the first probe interval at
// which UserTimeout has passed (at or after it, and one Interval after
// the first probe at the earliest), so a UserTimeout below Idle +
// Interval*Count shortens the bound and one above it lengthens it.
// [Within] sets them equal.
func (c Config) DetectionBound() (time.Duration, error) {
	return c.detectionBound(native)
}

func (c Config) detectionBound(p *platform) (time.Duration, error) {
	// Validated first, so that each field is within its option's limits.
	v, err := c.values(p)
	if err != nil {
		return 0, err
	}
	if n := fixedProbes(p); n > 0 {
		c.Count, v.missing[count] = n, false // whatever Count says
	}
	if v.missing[idle] || v.missing[interval] || v.missing[count] {
		return 0, nil // not set: the system's value counts
	}
	if c.Idle == 0 || c.Interval == 0 || c.Count == 0 {
		return 0, nil
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
	if p.userTimeoutEndsProbing != nil && c.UserTimeout > 0 {
		probes = p.userTimeoutEndsProbing(idle, interval, round(c.UserTimeout, userTimeout))
	}
	// The fields' own limits keep each factor within a Duration, but not
	// always their product and sum (AIX's limits allow 2³¹-1 probes of 34
	// years each).
	return time.Duration(saturatingAdd(int64(idle), saturatingMul(int64(interval), int64(probes)))), nil
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
// kills connections that would have survived it. Since UserTimeout is d, a
// peer that is alive but stops reading for longer than d is dropped too:
// on Linux 6.18 about d + 0.4 s after its receive window closed (2.42 s
// for a d of 2 s, 8.43 s for 8 s; see [Config]'s UserTimeout).
//
// A d too short for this OS (2 s on Linux) is an error: a *RangeError for
// Field "Idle+Interval*Count" whose Min is the shortest d this OS allows and
// whose Max is the longest bound its limits allow. A d beyond that Max is
// not an error: it gets a Config whose bound is shorter than d, as short as
// the limits force. Where the OS cannot set Idle or Interval per socket
// (OpenBSD, DragonFly before 5.8, js, wasip1, plan9) the error matches
// ErrUnsupported, with a zero Config.
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
	floorUnits := func(d time.Duration) int64 { return int64(d) / int64(unit) }
	idleMin, idleMax := inUnits(ik, ik.min), floorUnits(time.Duration(ik.max)*ik.unit)
	ivlMin, ivlMax := inUnits(vk, vk.min), floorUnits(time.Duration(vk.max)*vk.unit)

	// Up to three probes, as many as fit; where the OS fixes the count,
	// the timings must fit that.
	n := int64(max(d, 0) / unit)
	probes, fixed := int64(probesWithin), fixedProbes(p) > 0
	if fixed {
		probes = int64(fixedProbes(p))
	}
	// The longest detection the limits allow: each knob's own, the
	// kernel's on the probing time and on the whole, and UserTimeout's,
	// which is set to the whole.
	ivlMax = min(ivlMax, p.limits.probingUnits(unit)/probes)
	longest := min(idleMax+probes*ivlMax, p.limits.detectionUnits(unit))
	if ut := &p.knobs[userTimeout]; ut.name != "" {
		longest = min(longest, floorUnits(time.Duration(ut.max)*ut.unit))
	}
	total := min(n, longest)
	if !fixed {
		probes = min(probes, (total-idleMin)/ivlMin)
	}
	if probes < 1 || total < idleMin+probes*ivlMin {
		least := idleMin + max(probes, 1)*ivlMin
		return Config{}, &RangeError{
			Field: "Idle+Interval*Count", Option: detectionOption(p), OS: p.goos,
			Value: int64(d), Min: least * int64(unit), Max: longest * int64(unit),
		}
	}
	// Half the time idle, half probing, within the OS's limits; an OS
	// that cannot idle that long gets a shorter, still valid, bound.
	ivl := min(max(total/2/probes, ivlMin), ivlMax, (total-idleMin)/probes)
	idleN := min(total-ivl*probes, idleMax)
	// What idle cannot take, probing does, as far as it may.
	ivl = min(max(ivl, (total-idleN)/probes), ivlMax)
	cfg := Config{
		Idle:     time.Duration(idleN) * unit,
		Interval: time.Duration(ivl) * unit,
		Count:    int(probes),
	}
	if fixed {
		cfg.Count = 0
	}
	if p.knobs[userTimeout].name != "" {
		cfg.UserTimeout = time.Duration(idleN+ivl*probes) * unit
	}
	if _, err := cfg.values(p); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// DetectionBound is Config.DetectionBound for the values the socket holds:
// how long it takes to notice a vanished idle peer. It is 0 when keepalive
// is off, the one case in which nothing bounds it; when a timing it needs
// is in s.Unknown (Windows' SIO_KEEPALIVE_VALS, OpenBSD: the kernel's
// schedule cannot be read back); or when the kernel holds a timing this
// package would refuse to set (which Apply never leaves; the error of
// s.Config.DetectionBound says which).
func (s State) DetectionBound() time.Duration {
	if !s.Enabled {
		return 0
	}
	d, _ := s.Config.DetectionBound()
	return d
}

// IsDeadPeer reports whether err says the kernel dropped an established
// connection because the peer stopped answering: keepalive probes went
// unanswered, or sent data stayed unacknowledged for longer than UserTimeout
// or the retransmission limit.
//
// The kernel reports that as ETIMEDOUT, unless an ICMP host or network
// unreachable arrived for the connection before it gave up: then it reports
// that error instead (Linux: tcp_write_err, sk_err_soft; the BSDs and
// macOS: tcp_drop, t_softerror). So IsDeadPeer matches, through
// [errors.Is]:
//   - Linux, macOS, iOS, FreeBSD, DragonFly, NetBSD, OpenBSD, illumos,
//     Solaris, AIX: ETIMEDOUT, EHOSTUNREACH, ENETUNREACH;
//   - Windows: WSAETIMEDOUT, WSAEHOSTUNREACH, WSAENETUNREACH;
//     WSAENETRESET, which recv and send return when keepalive detected
//     the failure while the call was in progress (Microsoft's Winsock
//     documentation); and syscall.ETIMEDOUT for errors made up by Go code;
//   - js, wasip1, plan9: syscall.ETIMEDOUT.
//
// A connection that was never established is not a dead peer: an error of a
// dial (a *net.OpError whose Op is "dial", such as "connect: no route to
// host" or a connect that timed out) does not match, whatever it wraps. Nor
// does a deadline set with SetDeadline: os.ErrDeadlineExceeded does not
// match.
//
// Only one call receives the kernel's error: another Read or Write blocked at
// the same time, and every later one, gets io.EOF (Read) or EPIPE (Write), as
// if the peer had closed the connection, and IsDeadPeer is false for those
// (golang/go#31490, still so on Linux 6.18). To learn why the connection
// failed whichever error a call got, use [Diagnose](conn, err) before
// Close: it tells a dropped connection from a closed one by what the
// kernel still reports.
func IsDeadPeer(err error) bool {
	if err == nil {
		return false
	}
	if op := (*net.OpError)(nil); errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	return isTimedOut(err)
}
