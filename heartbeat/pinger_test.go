package heartbeat

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func nopPing(context.Context) error { return nil }

func TestNewPingerValidation(t *testing.T) {
	noLeaks(t)
	ok := PingerConfig{Idle: time.Second, Interval: time.Second, Count: 3, Ping: nopPing}
	for _, tc := range []struct {
		name   string
		mod    func(*PingerConfig)
		fields []string
	}{
		{"zero idle", func(c *PingerConfig) { c.Idle = 0 }, []string{"Idle"}},
		{"negative idle", func(c *PingerConfig) { c.Idle = -time.Second }, []string{"Idle"}},
		{"zero interval", func(c *PingerConfig) { c.Interval = 0 }, []string{"Interval"}},
		{"negative interval", func(c *PingerConfig) { c.Interval = -1 }, []string{"Interval"}},
		{"negative timeout", func(c *PingerConfig) { c.AnswerTimeout = -1 }, []string{"AnswerTimeout"}},
		{"huge idle", func(c *PingerConfig) { c.Idle = math.MaxInt64 }, []string{"Idle"}},
		{"huge interval", func(c *PingerConfig) { c.Interval = 1 << 62 }, []string{"Interval"}},
		{"huge timeout", func(c *PingerConfig) { c.AnswerTimeout = math.MaxInt64 }, []string{"AnswerTimeout"}},
		{"zero count", func(c *PingerConfig) { c.Count = 0 }, []string{"Count"}},
		{"negative count", func(c *PingerConfig) { c.Count = -3 }, []string{"Count"}},
		{"nil ping", func(c *PingerConfig) { c.Ping = nil }, []string{"Ping"}},
		{"zero value", func(c *PingerConfig) { *c = PingerConfig{} }, []string{"Idle", "Interval", "Count", "Ping"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.mod(&cfg)
			var p *Pinger
			var err error
			require.NotPanics(t, func() { p, err = NewPinger(cfg) })
			assert.Nil(t, p)
			require.ErrorIs(t, err, ErrInvalidConfig)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.fields[0], ce.Field)
			for _, f := range tc.fields {
				assert.Contains(t, err.Error(), "invalid "+f)
			}
		})
	}
	p, err := NewPinger(ok)
	require.NoError(t, err)
	assert.Equal(t, time.Second, p.cfg.AnswerTimeout, "AnswerTimeout defaults to Interval")
}

type pingLog struct {
	mu        sync.Mutex
	times     []time.Time // when Ping was entered
	deadlines []time.Time // the deadline it was given
}

func (l *pingLog) add() int {
	return l.addDeadline(time.Time{})
}

func (l *pingLog) addDeadline(d time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.times = append(l.times, time.Now())
	l.deadlines = append(l.deadlines, d)
	return len(l.times)
}

func (l *pingLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.times)
}

// TestPingerDeadAfterCount checks the schedule of pings and the verdict.
// Every bound is exact, without slack for the clock: the test and the
// Pinger read the same monotonic clock, the test's start precedes the
// Pinger's, and each ping's deadline is AnswerTimeout after the moment the
// Pinger decided to send it, so deadlines measure the Pinger's own
// schedule. (Times taken inside Ping do not: they lag the decision by
// however long the scheduler and a coarse clock make them, and a coarse
// clock may step in between, as Windows' does by up to 15.6ms.)
func TestPingerDeadAfterCount(t *testing.T) {
	noLeaks(t)
	const idle, interval, timeout = 30 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond
	var pings pingLog
	var deadCalls atomic.Int32
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	p, err := NewPinger(PingerConfig{
		Idle: idle, Interval: interval, AnswerTimeout: timeout, Count: 3, NoJitter: true,
		Ping: func(ctx context.Context) error {
			d, ok := ctx.Deadline()
			assert.True(t, ok, "Ping gets a deadline")
			pings.addDeadline(d)
			return nil
		},
		OnDead: func(cause error) { deadCalls.Add(1); cancel(cause) },
	})
	require.NoError(t, err)

	start := time.Now()
	err = p.Run(ctx)
	elapsed := time.Since(start)

	require.ErrorIs(t, err, ErrPeerDead)
	var de *DeadError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 3, de.Pings)
	assert.Nil(t, de.Err)
	assert.GreaterOrEqual(t, de.Silence, idle+2*interval+timeout)
	assert.LessOrEqual(t, de.Silence, elapsed)
	assert.Contains(t, err.Error(), "3 ping(s) unanswered")
	assert.Equal(t, 3, pings.len())
	assert.Equal(t, int32(1), deadCalls.Load())
	assert.Same(t, err, context.Cause(ctx), "OnDead can cancel a context with the reason")
	assert.GreaterOrEqual(t, elapsed, idle+2*interval+timeout)

	// The schedule: first ping after Idle, then Interval apart; death
	// no earlier than the last ping's deadline.
	sent := func(i int) time.Time { return pings.deadlines[i].Add(-timeout) }
	assert.GreaterOrEqual(t, sent(0).Sub(start), idle)
	assert.False(t, pings.times[0].Before(sent(0)), "the deadline counts from the decision")
	for i := 1; i < 3; i++ {
		assert.GreaterOrEqual(t, sent(i).Sub(sent(i-1)), interval, "ping %d", i)
	}
	assert.GreaterOrEqual(t, start.Add(elapsed).Sub(pings.deadlines[2]), time.Duration(0))
}

func TestPingerCountOne(t *testing.T) {
	noLeaks(t)
	var pings pingLog
	p, err := NewPinger(PingerConfig{
		Idle: 10 * time.Millisecond, Interval: time.Hour, AnswerTimeout: 20 * time.Millisecond,
		Count: 1, Ping: func(context.Context) error { pings.add(); return nil },
	})
	require.NoError(t, err)
	err = p.Run(context.Background())
	require.ErrorIs(t, err, ErrPeerDead)
	assert.Equal(t, 1, pings.len())
}

func TestPingerAliveWhenAnswered(t *testing.T) {
	noLeaks(t)
	var pings pingLog
	var p *Pinger
	var answers sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Declaring this peer dead would take 3 pings unanswered for 1s
	// each: far longer than any answer takes, even on a loaded machine.
	p, err := NewPinger(PingerConfig{
		Idle: 30 * time.Millisecond, Interval: time.Second, Count: 3,
		Ping: func(context.Context) error {
			if pings.add() == 5 {
				cancel()
			}
			// The answer arrives a little later, from the reading side.
			answers.Go(func() {
				time.Sleep(5 * time.Millisecond)
				p.Received()
			})
			return nil
		},
	})
	require.NoError(t, err)
	err = p.Run(ctx)
	answers.Wait()
	assert.ErrorIs(t, err, context.Canceled, "ran until the context ended")
	assert.NotErrorIs(t, err, ErrPeerDead)
	assert.Equal(t, 5, pings.len(), "kept pinging the idle peer, and no more after cancel")
}

func TestPingerTrafficSuppressesPings(t *testing.T) {
	noLeaks(t)
	const idle = 60 * time.Millisecond
	var pings pingLog
	p, err := NewPinger(PingerConfig{
		Idle: idle, Interval: 10 * time.Millisecond, Count: 1,
		Ping: func(context.Context) error { pings.add(); return nil },
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var traffic sync.WaitGroup
	// The longest time between the clock readings of two Received calls
	// is at most the time from before one call to after the next. The
	// first ping is due at least Idle/2 (the jitter) after the latest.
	var maxGap time.Duration
	started := make(chan struct{})
	traffic.Go(func() {
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		before := time.Now()
		p.Received()
		close(started)
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				next := time.Now()
				p.Received()
				maxGap = max(maxGap, time.Since(before))
				before = next
			}
		}
	})
	<-started
	time.AfterFunc(300*time.Millisecond, cancel)
	err = p.Run(ctx)
	traffic.Wait()
	assert.ErrorIs(t, err, context.Canceled)
	if maxGap < idle/2 {
		assert.Zero(t, pings.len(), "a busy peer is never pinged")
	} else {
		t.Logf("traffic stalled for %v; %d pings", maxGap, pings.len())
	}
}

func TestPingerPingError(t *testing.T) {
	noLeaks(t)
	boom := errors.New("broken pipe")
	var dead error
	p, err := NewPinger(PingerConfig{
		Idle: 5 * time.Millisecond, Interval: time.Second, Count: 5,
		Ping:   func(context.Context) error { return boom },
		OnDead: func(err error) { dead = err },
	})
	require.NoError(t, err)
	err = p.Run(context.Background())
	require.ErrorIs(t, err, ErrPeerDead)
	require.ErrorIs(t, err, boom)
	var de *DeadError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 1, de.Pings)
	assert.Contains(t, err.Error(), "broken pipe")
	assert.Same(t, err, dead)
}

func TestPingerRunCancel(t *testing.T) {
	noLeaks(t)
	p, err := NewPinger(PingerConfig{Idle: time.Hour, Interval: time.Hour, Count: 1, Ping: nopPing})
	require.NoError(t, err)
	why := errors.New("shutting down")
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	require.Eventually(t, p.running.Load, 10*time.Second, time.Millisecond)
	err = p.Run(ctx)
	assert.ErrorIs(t, err, ErrRunning, "one Run at a time")
	assert.Equal(t, "heartbeat: Pinger.Run already running", err.Error())
	cancel(why)
	select {
	case err := <-done:
		assert.Same(t, why, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	// Run can be used again afterwards.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	assert.ErrorIs(t, p.Run(ctx2), context.Canceled)
}

func TestPingerCancelDuringPing(t *testing.T) {
	noLeaks(t)
	ctx, cancel := context.WithCancel(context.Background())
	p, err := NewPinger(PingerConfig{
		Idle: time.Millisecond, Interval: time.Hour, Count: 1,
		Ping: func(ctx context.Context) error {
			cancel()
			<-ctx.Done()
			return ctx.Err()
		},
	})
	require.NoError(t, err)
	err = p.Run(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrPeerDead)
}

func TestPingerIntervalLongerThanIdle(t *testing.T) {
	noLeaks(t)
	// After an answer the next ping is due Idle after it, even though the
	// retry Interval is much longer.
	const idle = 30 * time.Millisecond
	var pings pingLog
	var p *Pinger
	p, err := NewPinger(PingerConfig{
		Idle: idle, Interval: time.Hour, Count: 2, NoJitter: true,
		Ping: func(context.Context) error {
			if pings.add() == 1 {
				time.AfterFunc(2*time.Millisecond, p.Received)
			}
			return nil
		},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	require.Eventually(t, func() bool { return pings.len() >= 2 }, 5*time.Second, time.Millisecond)
	cancel()
	<-done
	pings.mu.Lock()
	gap := pings.times[1].Sub(pings.times[0])
	pings.mu.Unlock()
	assert.GreaterOrEqual(t, gap, idle)
}

func TestPingerJitter(t *testing.T) {
	noLeaks(t)
	const idle = 100 * time.Millisecond
	p, err := NewPinger(PingerConfig{Idle: idle, Interval: time.Second, Count: 1, Ping: nopPing})
	require.NoError(t, err)
	samples := make([]time.Duration, 5000)
	for i := range samples {
		samples[i] = p.firstIdle()
		require.GreaterOrEqual(t, samples[i], idle/2)
		require.LessOrEqual(t, samples[i], idle)
	}
	slices.Sort(samples)
	assert.Less(t, samples[0], idle/2+idle/20, "spread reaches the low end")
	assert.Greater(t, samples[len(samples)-1], idle-idle/20, "and the high end")
	median := samples[len(samples)/2]
	assert.InDelta(t, float64(3*idle/4), float64(median), float64(idle/10), "roughly uniform")
	assert.Greater(t, len(slices.Compact(samples)), 4000)

	p.cfg.NoJitter = true
	assert.Equal(t, idle, p.firstIdle())
	p.cfg.Idle = 1
	p.cfg.NoJitter = false
	assert.Equal(t, time.Duration(1), p.firstIdle(), "tiny Idle does not panic")
}

func TestPingerJitterSpreadsClients(t *testing.T) {
	noLeaks(t)
	const clients, idle = 20, 100 * time.Millisecond
	var (
		mu     sync.Mutex
		chosen []time.Duration // first idle times picked by the pingers
	)
	orig := jitterN
	defer func() { jitterN = orig }()
	jitterN = func(n time.Duration) time.Duration {
		d := orig(n)
		mu.Lock()
		chosen = append(chosen, idle-d)
		mu.Unlock()
		return d
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	var pinged atomic.Int32
	for range clients {
		var start time.Time
		p, err := NewPinger(PingerConfig{
			Idle: idle, Interval: time.Hour, Count: 1,
			Ping: func(ctx context.Context) error {
				assert.GreaterOrEqual(t, time.Since(start), idle/2)
				pinged.Add(1)
				return nil
			},
		})
		require.NoError(t, err)
		start = time.Now()
		wg.Go(func() { _ = p.Run(ctx) })
	}
	require.Eventually(t, func() bool { return pinged.Load() == clients }, 10*time.Second, time.Millisecond)
	cancel()
	wg.Wait()

	require.Len(t, chosen, clients)
	for _, d := range chosen {
		assert.GreaterOrEqual(t, d, idle/2)
		assert.LessOrEqual(t, d, idle)
	}
	lo, hi := slices.Min(chosen), slices.Max(chosen)
	assert.Greater(t, hi-lo, idle/10, "first pings are spread out: %v", chosen)
}

func TestPingerParentDeadlineIsNotDeath(t *testing.T) {
	noLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	p, err := NewPinger(PingerConfig{
		Idle: time.Millisecond, Interval: time.Hour, Count: 1,
		Ping: func(pctx context.Context) error {
			d, _ := pctx.Deadline()
			assert.Equal(t, deadline, d, "the earlier deadline applies")
			// A write with a deadline fails at it, possibly before ctx
			// itself reports expiry.
			time.Sleep(time.Until(d))
			return errors.New("i/o timeout")
		},
	})
	require.NoError(t, err)
	assert.ErrorIs(t, p.Run(ctx), context.DeadlineExceeded)
}

// TestPingerRunCancelledNeverPings: with a context that is already done,
// Run returns its cause without calling Ping, even when the first ping is
// due at once (select would otherwise pick the timer about half the time).
func TestPingerRunCancelledNeverPings(t *testing.T) {
	noLeaks(t)
	var pings atomic.Int32
	p, err := NewPinger(PingerConfig{
		Idle: time.Nanosecond, Interval: time.Nanosecond, Count: 1, NoJitter: true,
		Ping: func(context.Context) error { pings.Add(1); return nil },
	})
	require.NoError(t, err)
	why := errors.New("shut down")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(why)
	for range 2000 {
		require.Same(t, why, p.Run(ctx))
	}
	assert.Zero(t, pings.Load(), "pings after cancellation")
}

// TestPingerHugeDurations: the longest durations NewPinger accepts do
// not overflow into a ping that is due at once or a deadline in the past.
func TestPingerHugeDurations(t *testing.T) {
	noLeaks(t)
	var pinged atomic.Bool
	p, err := NewPinger(PingerConfig{
		Idle: maxDuration, Interval: maxDuration, AnswerTimeout: maxDuration, Count: math.MaxInt,
		Ping: func(context.Context) error { pinged.Store(true); return nil },
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, p.Run(ctx), context.DeadlineExceeded)
	assert.False(t, pinged.Load())
}
