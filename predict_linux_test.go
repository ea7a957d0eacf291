//go:build linux

package keepalive

import (
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive/keepalivetest"
)

// A sample is one Inspect and its prediction, taken while the peer is gone.
type sample struct {
	at      time.Duration // since the peer vanished
	h       Health
	p       Prediction
	predict time.Duration // at + p.In: when the connection should fail
}

// watchDeath samples conn every 250 ms from start until a blocked Read
// fails, and returns the samples and when Read failed, since start.
func watchDeath(t *testing.T, conn *net.TCPConn, s State, start time.Time, limit time.Duration) ([]sample, time.Duration, error) {
	t.Helper()
	type result struct {
		at  time.Duration
		err error
	}
	done := make(chan result, 1)
	go func() {
		_, err := conn.Read(make([]byte, 1))
		done <- result{time.Since(start), err}
	}()
	var samples []sample
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	giveUp := time.After(limit)
	take := func() {
		at := time.Since(start)
		h, err := Inspect(conn)
		require.NoError(t, err)
		p := h.Predict(s)
		samples = append(samples, sample{at, h, p, at + p.In})
	}
	take()
	for {
		select {
		case <-tick.C:
			take()
		case r := <-done:
			return samples, r.at, r.err
		case <-giveUp:
			t.Fatalf("the connection did not fail within %v", limit)
		}
	}
}

// checkPredictions asserts that every sample from firstDue on, while the
// connection was still up, put its death within max(150 ms, 5% of bound) of
// when Read failed, or earlier by up to late: how late this process got to
// run just before it saw the failure (see wakeups), by which the failure
// was seen late and the prediction looks early.
func checkPredictions(t *testing.T, samples []sample, died, late, firstDue, bound time.Duration, by Cause) {
	t.Helper()
	tolerance := max(150*time.Millisecond, bound/20)
	t.Logf("failed at %v; this process woke up to %v late in the second before", died, late)
	checked := 0
	for _, s := range samples {
		t.Logf("%5.2fs %-11v probes %d retransmits %d rto %v: %v (error %+dms)", s.at.Seconds(), s.h.State,
			s.h.Probes, s.h.Retransmits, s.h.RTO, s.p, (s.predict - died).Milliseconds())
		if s.at < firstDue || s.h.State != StateEstablished {
			continue
		}
		checked++
		require.True(t, s.p.Known, "%v", s.p)
		assert.Equal(t, by, s.p.By)
		assert.True(t, s.predict >= died-tolerance-late && s.predict <= died+tolerance,
			"at %v predicted death at %v, Read failed at %v: allowed %v early (%v late wake-up included) to %v late",
			s.at, s.predict, died, tolerance+late, late, tolerance)
	}
	assert.Greater(t, checked, 1, "too few samples before the connection died")
}

// wakeups measures how late this process gets to run: a goroutine sleeps
// 5 ms at a time and records how much later than asked it woke up. On a
// loaded machine the goroutine blocked in a Read or Write that the kernel
// has failed wakes up late by as much, so the failure is seen late; the
// kernel's own timing is what the prediction is about.
type wakeups struct {
	mu   sync.Mutex
	seen []wakeup
	stop chan struct{}
	done chan struct{}
}

type wakeup struct {
	due  time.Time
	late time.Duration
}

func watchWakeups(t *testing.T) *wakeups {
	w := &wakeups{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			due := time.Now().Add(5 * time.Millisecond)
			time.Sleep(5 * time.Millisecond)
			late := time.Since(due)
			w.mu.Lock()
			w.seen = append(w.seen, wakeup{due, late})
			w.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		close(w.stop)
		<-w.done
	})
	return w
}

// lateBefore is the longest delay of a wake-up due in the second before at.
func (w *wakeups) lateBefore(at time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var late time.Duration
	for _, u := range w.seen {
		if !u.due.Before(at.Add(-time.Second)) && !u.due.After(at) {
			late = max(late, u.late)
		}
	}
	return late
}

// The accuracy bar: an idle connection whose peer vanishes.
func TestPredictIdle(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{Idle: time.Second, Interval: time.Second, Count: 2},
		{Idle: 2 * time.Second, Interval: time.Second, Count: 3},
		{Idle: time.Second, Interval: time.Second, Count: 5, UserTimeout: 2 * time.Second},
	} {
		t.Run(fmt.Sprintf("idle=%v,interval=%v,count=%d,user_timeout=%v", cfg.Idle, cfg.Interval, cfg.Count, cfg.UserTimeout), func(t *testing.T) {
			if isolate(t) {
				return
			}
			client, server := keepalivetest.Pair(t)
			require.NoError(t, cfg.Apply(client))
			s := mustGet(t, client)
			wakes := watchWakeups(t)
			start := time.Now()
			require.NoError(t, keepalivetest.Vanish(server))

			bound, err := cfg.DetectionBound()
			require.NoError(t, err)
			samples, died, err := watchDeath(t, client, s, start, bound+5*time.Second)
			require.ErrorIs(t, err, syscall.ETIMEDOUT)
			checkPredictions(t, samples, died, wakes.lateBefore(start.Add(died)), cfg.Idle, bound, CauseKeepalive)
			// Before the peer vanished nothing had been sent: the very
			// first prediction is the bound.
			assert.InDelta(t, bound.Seconds(), samples[0].p.In.Seconds(), 0.1)
		})
	}
}

// The accuracy bar: the peer vanishes with data in flight; UserTimeout
// ends it.
func TestPredictDataInFlight(t *testing.T) {
	t.Parallel()
	for _, ut := range []time.Duration{2 * time.Second, 3 * time.Second} {
		t.Run(fmt.Sprintf("user_timeout=%v", ut), func(t *testing.T) {
			if isolate(t) {
				return
			}
			client, server := keepalivetest.Pair(t)
			cfg := Config{Idle: time.Second, Interval: time.Second, Count: 2, UserTimeout: ut}
			require.NoError(t, cfg.Apply(client))
			s := mustGet(t, client)
			wakes := watchWakeups(t)
			start := time.Now()
			require.NoError(t, keepalivetest.Vanish(server))
			_, err := client.Write([]byte("unacknowledged"))
			require.NoError(t, err)

			samples, died, err := watchDeath(t, client, s, start, ut+5*time.Second)
			require.ErrorIs(t, err, syscall.ETIMEDOUT)
			// The first retransmission is due one RTO (200 ms) after the
			// write, or after the tail-loss probe that precedes it.
			checkPredictions(t, samples, died, wakes.lateBefore(start.Add(died)), 250*time.Millisecond, ut, CauseUnacked)
		})
	}
}

// Without UserTimeout, data in flight is given up on after tcp_retries2
// retransmissions: about 15 minutes, predicted, not waited for. The
// prediction is checked against the schedule observed on this socket: when
// its first retransmission went out and the RTO it started from, which is
// not always 200 ms: a new connection takes its first RTO from the RTT the
// kernel cached for the destination (tcp_init_metrics: cached RTT plus
// max(2 x it, 200 ms)), and connections to 127.0.0.1 under load leave some
// milliseconds there.
func TestPredictRetransmissionsWithoutUserTimeout(t *testing.T) {
	if isolate(t) {
		return
	}
	client, server := keepalivetest.Pair(t)
	cfg := Config{Idle: time.Second, Interval: time.Second, Count: 2}
	require.NoError(t, cfg.Apply(client))
	s := mustGet(t, client)
	require.NoError(t, keepalivetest.Vanish(server))
	start := time.Now()
	_, err := client.Write([]byte("unacknowledged"))
	require.NoError(t, err)

	// The first retransmission went out between the last sample that
	// shows none and the first that shows one.
	var firstAfter, firstBefore time.Duration
	var first Health
	for first.Retransmits == 0 {
		require.Less(t, time.Since(start), 5*time.Second, "no retransmission")
		time.Sleep(2 * time.Millisecond)
		before := time.Since(start)
		first, err = Inspect(client)
		require.NoError(t, err)
		if first.Retransmits == 0 {
			firstAfter = before
		}
		firstBefore = time.Since(start)
	}
	k := nativeTimers()
	require.Less(t, first.RTO, k.rtoMax)
	base := first.RTO >> first.Retransmits

	time.Sleep(1500*time.Millisecond - time.Since(start))
	at := time.Since(start)
	h, err := Inspect(client)
	require.NoError(t, err)
	p := h.Predict(s)
	require.True(t, p.Known, "%v", p)
	assert.Equal(t, CauseUnacked, p.By)
	total := at + p.In

	// The kernel's schedule: a timer after each retransmission, backed off
	// from base; the first one at least tcp_model_timeout after the first
	// retransmission gives up. Timers fire late (the timer wheel rounds an
	// expiry up by at most 1/8 of the delay), so a timer nominally just
	// short of the timeout may be the one: within 1%, either is right.
	model := k.modelTimeout()
	var fired, previous time.Duration
	for n := 1; fired < model; n++ {
		previous = fired
		fired += min(base<<n, k.rtoMax)
	}
	earliest := fired
	if previous >= model-model/100 {
		earliest = previous
	}
	// The prediction finds the first retransmission from the last one
	// (SinceSent, in jiffies: up to 4 ms coarse at HZ=250) and the nominal
	// timers between them, each of which may have fired up to 1/8 late.
	var slack time.Duration
	for n := 1; n < h.Retransmits; n++ {
		slack += min(base<<n, k.rtoMax) / 8
	}
	slack += 4 * time.Millisecond
	lo, hi := firstAfter+earliest-slack, firstBefore+fired+slack
	t.Logf("first retransmission %v..%v after the write, RTO %v before it; at %v: %v, %v; tcp_retries2 %d, rto_max %v: dies %v after the write, expected %v..%v",
		firstAfter, firstBefore, base, at, h, p, k.retries2, k.rtoMax, total, lo, hi)
	assert.GreaterOrEqual(t, total, lo)
	assert.LessOrEqual(t, total, hi)
}

func TestModelTimeout(t *testing.T) {
	k := kernelTimers{retries2: 15, rtoMin: 200 * time.Millisecond, rtoMax: 120 * time.Second}
	assert.Equal(t, 924600*time.Millisecond, k.modelTimeout(), "Linux's documented 924.6 s")
	k.retries2 = 8
	assert.Equal(t, 102200*time.Millisecond, k.modelTimeout())
}

func TestPredictNeverAndUnknown(t *testing.T) {
	k := &kernelTimers{retries2: 15, rtoMin: 200 * time.Millisecond, rtoMax: 120 * time.Second}
	idle := Health{State: StateEstablished, Known: linuxMetrics, SendWindow: 65536}
	off := State{}
	assert.Equal(t, Prediction{Known: true, Never: true}, idle.predict(off, k))
	assert.Equal(t, "never dropped: keepalive is off and nothing is in flight", idle.predict(off, k).String())

	macOS := Health{State: StateEstablished, Known: MetricState | MetricSendWindow | MetricRTT}
	p := macOS.predict(State{Enabled: true}, k)
	assert.False(t, p.Known)
	assert.Equal(t, "cannot predict: the OS does not report Probes, Retransmits, Backoff, RTO, UnackedBytes, NotSentBytes, SinceReceived, SinceSent", p.String())
	assert.False(t, idle.predict(State{Enabled: true}, nil).Known)

	closed := idle
	closed.State = StateClosed
	assert.Equal(t, "already dropped", closed.predict(State{}, k).String())

	on := State{Enabled: true}
	on.Config = Config{Idle: 10 * time.Second, Interval: 5 * time.Second, Count: 3}
	idle.SinceReceived = 12 * time.Second
	assert.Equal(t, "dead in 13s: keepalive probes unanswered", idle.predict(on, k).String())
}

// Once the RTO has reached its maximum, the retransmissions so far are
// counted from the kernel's own base estimate.
func TestPredictCappedRTO(t *testing.T) {
	k := &kernelTimers{retries2: 15, rtoMin: 200 * time.Millisecond, rtoMax: 120 * time.Second}
	// Read 4 minutes after the write: ten retransmissions, the last one
	// (at 3m24.6s) 35.4 s ago.
	h := Health{State: StateEstablished, Known: linuxMetrics, SendWindow: 65536, UnackedBytes: 14,
		Retransmits: 10, Backoff: 10, RTO: 120 * time.Second, SinceSent: 35400 * time.Millisecond, RTT: 30 * time.Microsecond}
	p := h.predict(State{}, k)
	require.True(t, p.Known)
	// From the first retransmission (0.2 s after the write) the 16th timer
	// is at 924.4 s, 4m0.2s of which have passed.
	assert.InDelta(t, (924400*time.Millisecond - 240*time.Second + 200*time.Millisecond).Seconds(), p.In.Seconds(), 0.1)
}
