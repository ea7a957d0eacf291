package keepalive

import (
	"fmt"
	"time"
)

// Prediction is when the kernel will drop a connection if nothing more
// arrives from its peer, worked out by [Health.Predict].
type Prediction struct {
	// Known reports whether the drop could be predicted: the OS reports
	// everything its timers' rule needs, and this package knows the rule.
	// Why says what is missing when it is false.
	Known bool
	// Never reports that the kernel will not drop the connection on its
	// own: keepalive is off and no data waits to be acknowledged or sent.
	Never bool
	// In is how long after the snapshot the kernel drops the connection,
	// 0 if it already has.
	In time.Duration
	// By is what drops it: keepalive probes, retransmissions of
	// unacknowledged data, or zero-window probes.
	By Cause
	// Why explains a prediction that is not Known.
	Why string
}

// String says "dead in 1.2s: keepalive probes unanswered", "never dropped"
// or "cannot predict: ...".
func (p Prediction) String() string {
	switch {
	case !p.Known:
		return "cannot predict: " + p.Why
	case p.Never:
		return "never dropped: keepalive is off and nothing is in flight"
	case p.In == 0 && p.By == CauseUnknown:
		return "already dropped"
	}
	return fmt.Sprintf("dead in %v: %v", p.In.Round(time.Millisecond), p.By)
}

// predictionNeeds is what Health.Predict reads.
const predictionNeeds = MetricState | MetricProbes | MetricRetransmits | MetricBackoff | MetricRTO |
	MetricUnackedBytes | MetricNotSentBytes | MetricSendWindow | MetricSinceReceived | MetricSinceSent

// Predict says how long after h was read the kernel will drop the
// connection if nothing more arrives from the peer, given s, the
// connection's keepalive settings read with [Get]. It follows the kernel's
// own timers, which depend on what the connection is doing:
//
//   - Idle (nothing unacknowledged or unsent): keepalive. The idle time
//     counts from the last segment received (SinceReceived), the first
//     probe goes out after Idle, then one every Interval, and the timer that
//     finds Count probes unanswered drops the connection: Idle +
//     Interval*Count after the peer was last heard. With a UserTimeout, the
//     first timer at or after UserTimeout with a probe out drops it instead,
//     and Count does not matter. With keepalive off, Never.
//   - Data unacknowledged: no keepalive probes. The retransmission timer
//     doubles RTO after each retransmission; with a UserTimeout the
//     connection is dropped UserTimeout after the first retransmission,
//     without one after tcp_retries2 retransmissions' worth of backed-off
//     time (about 15 minutes). If the peer's window is zero meanwhile, it
//     is not dropped without a UserTimeout while the peer answers, and
//     after twice the maximum RTO (4 minutes) of silence otherwise.
//   - Data waiting behind a zero window (the peer stopped reading): zero-
//     window probes, backed off like retransmissions. With a UserTimeout
//     the connection is dropped UserTimeout after the first of them,
//     whether the peer answers or not (it is alive but does not read);
//     without one, tcp_retries2 unanswered probes drop it, and answered ones
//     never do.
//
// The prediction assumes that keepalive was switched on before the
// connection went quiet (so that the timer counts from SinceReceived), and
// before the first retransmission it assumes no tail-loss probe is still
// pending, which can make it early by up to one RTO. The timers themselves
// fire a little late (timer slack), by 1 to 3 percent on Linux.
//
// The rule is Linux's (net/ipv4/tcp_timer.c). Where the OS does not report
// what it needs (probe counts, backoff and idle times on macOS and
// Windows), or this package does not know the OS's rule, the Prediction is
// not Known: never a guess.
func (h Health) Predict(s State) Prediction {
	return h.predict(s, nativeTimers())
}

func (h Health) predict(s State, k *kernelTimers) Prediction {
	if k == nil {
		return Prediction{Why: "this package does not know this OS's TCP timers"}
	}
	if !h.Has(predictionNeeds) {
		return Prediction{Why: "the OS does not report " + (predictionNeeds &^ h.Known).String()}
	}
	switch h.State {
	case StateClosed:
		return Prediction{Known: true}
	case StateEstablished, StateCloseWait:
	default:
		return Prediction{Why: "the connection is " + h.State.String() + ", not ESTABLISHED or CLOSE-WAIT"}
	}
	switch {
	case h.UnackedBytes > 0 || h.Retransmits > 0:
		return h.untilRetransmissionsEnd(s.Config.UserTimeout, k)
	case h.NotSentBytes > 0 && h.SendWindow == 0:
		return h.untilZeroWindowProbesEnd(s.Config.UserTimeout, k)
	case h.NotSentBytes > 0:
		return Prediction{Why: "data is about to be sent"}
	}
	return h.untilKeepaliveEnds(s)
}

// untilKeepaliveEnds is tcp_keepalive_timer's rule for an idle connection.
func (h Health) untilKeepaliveEnds(s State) Prediction {
	if !s.Enabled {
		return Prediction{Known: true, Never: true}
	}
	c := s.Config
	if c.Idle <= 0 || c.Interval <= 0 || (c.Count <= 0 && c.UserTimeout <= 0) {
		return Prediction{Why: "the keepalive timings were not read"}
	}
	probes := time.Duration(c.Count)
	if c.UserTimeout > 0 {
		// The first timer at or after UserTimeout with a probe out; the
		// timers fire at Idle, Idle+Interval, ... after the last segment.
		probes = max(1, (c.UserTimeout-c.Idle+c.Interval-1)/c.Interval)
	}
	drop := c.Idle + c.Interval*probes
	return Prediction{Known: true, In: max(0, drop-h.SinceReceived), By: CauseKeepalive}
}

// untilRetransmissionsEnd is tcp_retransmit_timer's rule (tcp_write_timeout,
// retransmits_timed_out) for data in flight. The kernel counts from the
// first retransmission (retrans_stamp); it is found from the last one
// (SinceSent) and the backed-off RTOs between them.
//
// If the peer's window is zero (it shrank its window after the data was
// sent, as a peer whose receive buffer shrinks does), the retransmissions
// are zero-window probes in effect: Backoff counts them but Retransmits
// does not, tcp_retries2 no longer applies, and without a UserTimeout the
// connection is dropped only once both the first retransmission and the
// last segment received are more than twice the maximum RTO ago
// (tcp_rtx_probe0_timed_out).
func (h Health) untilRetransmissionsEnd(userTimeout time.Duration, k *kernelTimers) Prediction {
	by := CauseUnacked
	if h.SendWindow == 0 {
		by = CauseZeroWindow
	}
	// base is the RTO before the first retransmission: RTO halved once per
	// retransmission, unless the doubling reached the maximum; then the
	// kernel's own estimate, smoothed RTT plus at least TCP_RTO_MIN
	// (tcp_set_rto), stands in for it.
	r := max(h.Retransmits, h.Backoff)
	base := h.RTO
	switch {
	case r > 0 && h.RTO < k.rtoMax:
		base = h.RTO >> r
	case r > 0:
		base = h.RTT + k.rtoMin
	}
	base = max(base, k.rtoMin)
	wait := func(n int) time.Duration { // the timer after retransmission n
		if n >= 30 {
			return k.rtoMax
		}
		return min(base<<n, k.rtoMax)
	}
	// sinceFirst is how long ago the first retransmission went out; before
	// it, negative: the first is one RTO after the last transmission.
	sinceFirst := h.SinceSent - h.RTO
	if r > 0 {
		sinceFirst = h.SinceSent
		for n := 1; n < r; n++ {
			sinceFirst += wait(n)
		}
	}
	if userTimeout > 0 {
		return Prediction{Known: true, In: max(0, userTimeout-sinceFirst), By: by}
	}
	// fired runs over the timer after each retransmission, from the first.
	var fired time.Duration
	if by == CauseZeroWindow {
		limit := 2 * k.rtoMax
		for n := 1; fired <= limit || fired-sinceFirst+h.SinceReceived <= limit; n++ {
			fired += wait(n)
		}
		return Prediction{Known: true, In: max(0, fired-sinceFirst), By: by}
	}
	// The kernel gives up at the first timer at least tcp_model_timeout
	// after the first retransmission. The timers fire late, by more than
	// 1% over a dozen backed-off timeouts, so one nominally within 1% short
	// of it is past it when it fires.
	limit := k.modelTimeout()
	for n := 1; fired < limit-limit/100; n++ {
		fired += wait(n)
	}
	return Prediction{Known: true, In: max(0, fired-sinceFirst), By: by}
}

// untilZeroWindowProbesEnd is tcp_probe_timer's rule for data waiting
// behind a zero window.
func (h Health) untilZeroWindowProbesEnd(userTimeout time.Duration, k *kernelTimers) Prediction {
	base := max(h.RTO, k.rtoMin) // tcp_probe0_base
	if userTimeout > 0 {
		// The kernel counts from the first probe timer (icsk_probes_tstamp),
		// one base after the window closed, that is after the last data
		// went out; it does not restart when the peer answers.
		return Prediction{Known: true, In: max(0, base+userTimeout-h.SinceSent), By: CauseZeroWindow}
	}
	wait := func(backoff int) time.Duration {
		if backoff >= 30 {
			return k.rtoMax
		}
		return min(base<<backoff, k.rtoMax)
	}
	// The last segment received (an answer to a probe, or the ACK that
	// closed the window) armed the timer with the backoff of then; each
	// unanswered probe since raised it by one, up to tcp_retries2. The timer
	// that finds tcp_retries2 probes out drops the connection.
	backoff := max(0, h.Backoff-h.Probes)
	var at time.Duration // from the last segment received
	for probes := 0; ; probes++ {
		at += wait(backoff)
		if probes >= k.retries2 {
			break
		}
		backoff = min(backoff+1, k.retries2)
	}
	return Prediction{Known: true, In: max(0, at-h.SinceReceived), By: CauseZeroWindow}
}

// modelTimeout is tcp_model_timeout(tcp_retries2, TCP_RTO_MIN): how long
// after the first retransmission the kernel gives up on unacknowledged data
// when no user timeout is set.
func (k *kernelTimers) modelTimeout() time.Duration {
	linear := 0 // ilog2(rtoMax / rtoMin)
	for q := k.rtoMax / k.rtoMin; q > 1; q >>= 1 {
		linear++
	}
	if k.retries2 <= linear {
		return time.Duration(2<<k.retries2-1) * k.rtoMin
	}
	return time.Duration(2<<linear-1)*k.rtoMin + time.Duration(k.retries2-linear)*k.rtoMax
}
