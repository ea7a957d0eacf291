package heartbeat

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// PingerConfig configures a Pinger. Idle, Interval, Count and Ping are
// required.
type PingerConfig struct {
	// Idle is how long nothing may be received before the first ping.
	Idle time.Duration

	// Interval is the time between unanswered pings.
	Interval time.Duration

	// AnswerTimeout is how long to wait for an answer to the last ping before
	// declaring the peer dead. Zero means Interval. Each Ping call also
	// gets a context whose deadline is AnswerTimeout after the time the Pinger
	// decided to send that ping (or the parent's, if earlier), so the
	// last ping's deadline is exactly when the peer is declared dead.
	AnswerTimeout time.Duration

	// Count is the number of pings to send without an answer before the
	// peer is declared dead, like TCP_KEEPCNT. At least 1.
	Count int

	// Ping sends one heartbeat to the peer. It should only send, not
	// wait for the answer: any inbound traffic, reported with Received
	// or seen through Wrap, counts as the answer. An error declares the
	// peer dead at once (a DeadError wrapping it). It runs on the
	// goroutine that called Run.
	Ping func(ctx context.Context) error

	// OnDead, if set, is called with the DeadError when the peer is
	// declared dead, before Run returns it. Its signature matches
	// context.CancelCauseFunc, so a Pinger can cancel a context with
	// the reason:
	//
	//	ctx, cancel := context.WithCancelCause(ctx)
	//	cfg.OnDead = cancel
	OnDead func(cause error)

	// NoJitter disables the randomization of the first ping. By default
	// the first ping is due after a random idle time in [Idle/2, Idle],
	// so that clients that connected together do not ping in lockstep.
	NoJitter bool
}

// A Pinger is the client half of an application-level heartbeat: when
// nothing has been received from the peer for Idle, it sends a ping; if
// still nothing is received it pings again every Interval, and after
// Count unanswered pings (and AnswerTimeout after the last one) it declares the
// peer dead.
//
// A Pinger watches one connection. It uses no goroutine of its own: Run
// does the work and returns when the peer is declared dead or its
// context is done. Received and Wrap may be used concurrently with Run.
type Pinger struct {
	cfg      PingerConfig
	base     time.Time
	last     atomic.Int64  // time of the last inbound traffic, in ns since base
	probing  atomic.Bool   // pings are outstanding: wake Run on traffic
	answered chan struct{} // capacity 1
	running  atomic.Bool
}

// NewPinger validates cfg and returns a Pinger. Idle, Interval and
// AnswerTimeout may be at most about 73 years (math.MaxInt64/4 nanoseconds), so
// that the times the Pinger computes from them cannot overflow.
func NewPinger(cfg PingerConfig) (*Pinger, error) {
	var errs []error
	positive := func(field string, d time.Duration) {
		switch {
		case d <= 0:
			errs = append(errs, configErr(field, "must be positive, got %v", d))
		case d > maxDuration:
			errs = append(errs, configErr(field, "must be at most %v, got %v", time.Duration(maxDuration), d))
		}
	}
	positive("Idle", cfg.Idle)
	positive("Interval", cfg.Interval)
	switch {
	case cfg.AnswerTimeout < 0:
		errs = append(errs, configErr("AnswerTimeout", "must not be negative, got %v", cfg.AnswerTimeout))
	case cfg.AnswerTimeout > maxDuration:
		errs = append(errs, configErr("AnswerTimeout", "must be at most %v, got %v", time.Duration(maxDuration), cfg.AnswerTimeout))
	}
	if cfg.Count < 1 {
		errs = append(errs, configErr("Count", "must be at least 1, got %d", cfg.Count))
	}
	if cfg.Ping == nil {
		errs = append(errs, configErr("Ping", "must not be nil"))
	}
	if err := joinErrs(errs); err != nil {
		return nil, err
	}
	if cfg.AnswerTimeout == 0 {
		cfg.AnswerTimeout = cfg.Interval
	}
	return &Pinger{cfg: cfg, base: time.Now(), answered: make(chan struct{}, 1)}, nil
}

func (p *Pinger) clock() time.Duration { return time.Since(p.base) }

// Received records inbound traffic from the peer. Call it whenever
// anything arrives, or read through Wrap, which does. It is cheap and
// safe for concurrent use.
func (p *Pinger) Received() {
	p.last.Store(int64(p.clock()))
	if p.probing.Load() {
		select {
		case p.answered <- struct{}{}:
		default:
		}
	}
}

// firstIdle returns the idle time before the first ping.
func (p *Pinger) firstIdle() time.Duration {
	idle := p.cfg.Idle
	if p.cfg.NoJitter || idle < 2 {
		return idle
	}
	return idle - jitterN(idle/2+1)
}

// jitterN returns a random duration in [0, n); tests replace it.
var jitterN = rand.N[time.Duration]

// Run watches the peer until it is declared dead, returning a
// *DeadError (matching ErrPeerDead), or until ctx is done, returning
// context.Cause(ctx). Starting Run counts as traffic. Run may be called
// again after it returns, but not concurrently: a second Run while one
// is running returns ErrRunning at once.
//
// Run checks ctx before every ping and never pings once it has seen ctx
// done: with a context that is already done, it returns at once without
// calling Ping.
//
// A panic in Ping or OnDead propagates out of Run, as from any function
// Run calls on its caller's goroutine; the Pinger may Run again.
//
// Run returns an error at once, without pinging, for a nil ctx, and a
// *ConfigError for Ping (matching ErrInvalidConfig) on a Pinger not made
// by NewPinger, such as the zero Pinger.
func (p *Pinger) Run(ctx context.Context) error {
	switch {
	case ctx == nil:
		return errNilContext
	case p.cfg.Ping == nil:
		return configErr("Ping", "must not be nil (a Pinger must be made by NewPinger)")
	}
	if !p.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer p.running.Store(false)
	defer p.probing.Store(false)
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}

	cfg := &p.cfg
	start := p.clock()
	p.last.Store(int64(start))
	var (
		due       = start + p.firstIdle() // next ping, while sent == 0
		sent      int                     // pings since the last traffic
		firstPing time.Duration           // when the first of them was sent
		lastPing  time.Duration           // when the latest was sent
	)
	t := time.NewTimer(due - start)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		case <-p.answered:
		}
		// When ctx is done and the timer has fired too, select picks
		// either; cancellation must win.
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		now := p.clock()
		last := time.Duration(p.last.Load())
		if sent > 0 && last >= firstPing {
			sent = 0 // answered
			p.probing.Store(false)
		}
		if sent == 0 && last > start {
			due = last + cfg.Idle
		}
		var next time.Duration
		switch {
		case sent == 0 && now < due:
			next = due
		case sent == 0 || (sent < cfg.Count && now >= lastPing+cfg.Interval):
			if sent == 0 {
				firstPing = now
				p.probing.Store(true)
			}
			sent++
			lastPing = now
			if err := p.ping(ctx, now); err != nil {
				if parentExpired(ctx) {
					<-ctx.Done()
					return context.Cause(ctx)
				}
				return p.dead(&DeadError{Pings: sent, Silence: now - last, Err: err})
			}
			next = lastPing + cfg.Interval
			if sent == cfg.Count {
				next = lastPing + cfg.AnswerTimeout
			}
		case sent < cfg.Count:
			next = lastPing + cfg.Interval
		case now >= lastPing+cfg.AnswerTimeout:
			return p.dead(&DeadError{Pings: sent, Silence: now - last})
		default:
			next = lastPing + cfg.AnswerTimeout
		}
		t.Reset(max(next-p.clock(), 0))
	}
}

// ping calls Ping for the ping decided at time at (on the Pinger's
// clock), with a deadline AnswerTimeout after it.
func (p *Pinger) ping(ctx context.Context, at time.Duration) error {
	ctx, cancel := context.WithDeadline(ctx, p.base.Add(at+p.cfg.AnswerTimeout))
	defer cancel()
	return p.cfg.Ping(ctx)
}

// parentExpired reports whether ctx is done or past its deadline (a ping
// may fail on that deadline just before ctx notices it).
func parentExpired(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

func (p *Pinger) dead(err *DeadError) error {
	if p.cfg.OnDead != nil {
		p.cfg.OnDead(err)
	}
	return err
}
