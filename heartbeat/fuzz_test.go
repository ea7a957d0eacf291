package heartbeat

import (
	"context"
	"errors"
	"io"
	"math"
	"slices"
	"testing"
	"time"
)

// checkConfigError checks what every rejected configuration must give:
// an error matching ErrInvalidConfig whose *ConfigError names one of
// fields, and every wrapped error a *ConfigError too.
func checkConfigError(t *testing.T, err error, fields ...string) {
	t.Helper()
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("error %v does not match ErrInvalidConfig", err)
	}
	var ce *ConfigError
	if !errors.As(err, &ce) || !slices.Contains(fields, ce.Field) || ce.Msg == "" {
		t.Fatalf("error %v: no *ConfigError naming one of %v", err, fields)
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !errors.As(e, &ce) {
				t.Fatalf("joined error %v is not a *ConfigError", e)
			}
		}
	}
}

// FuzzMonitorConfig feeds NewMonitor's validation arbitrary durations and
// shard counts. It must never panic; a config it rejects gives a
// *ConfigError and no Monitor; one it accepts is exactly one the
// documentation allows, and the Monitor built from it tracks, refreshes,
// expires and removes.
func FuzzMonitorConfig(f *testing.F) {
	ms := int64(time.Millisecond)
	f.Add(int64(time.Second), int64(0), int64(0), 0)
	f.Add(ms, ms, int64(0), 1)
	f.Add(10000*ms, ms, int64(time.Hour), 4096)
	f.Add(10001*ms, ms, int64(0), 3)
	f.Add(int64(math.MaxInt64/4), int64(0), int64(math.MaxInt64/4), 64)
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MinInt64), -1)
	f.Add(ms-1, int64(-1), int64(-1), 4097)
	f.Fuzz(func(t *testing.T, timeout, tick, grace int64, shards int) {
		cfg := MonitorConfig[int]{
			IdleTimeout: time.Duration(timeout), Tick: time.Duration(tick),
			Grace: time.Duration(grace), Shards: shards,
		}
		effTick := cfg.Tick
		if effTick == 0 {
			effTick = max(cfg.IdleTimeout/8, MinTick)
		}
		documented := cfg.IdleTimeout >= MinTick && cfg.IdleTimeout <= maxDuration &&
			(cfg.Tick == 0 || cfg.Tick >= MinTick && cfg.Tick <= cfg.IdleTimeout) &&
			cfg.Grace >= 0 && cfg.Grace <= maxDuration &&
			shards >= 0 && shards <= maxShards &&
			cfg.IdleTimeout/effTick <= maxTicks
		m, err := newMonitor(cfg)
		if err != nil {
			checkConfigError(t, err, "IdleTimeout", "Tick", "Grace", "Shards")
			if m != nil {
				t.Fatal("a Monitor with an error")
			}
			if documented {
				t.Fatalf("%+v rejected: %v", cfg, err)
			}
			return
		}
		if !documented {
			t.Fatalf("%+v accepted", cfg)
		}
		if n := len(m.shards); n&(n-1) != 0 || n < shards || n > max(2*shards, 1024) {
			t.Fatalf("%d shards for Shards %d", n, shards)
		}
		if m.res <= 0 || m.res != effTick/2 || len(m.starts) < int(2*ceilDiv(cfg.IdleTimeout, m.res)+8) {
			t.Fatalf("res %v, ring %d for %+v", m.res, len(m.starts), cfg)
		}
		var evicted []Reason
		m.onEvict = func(_ int, _ io.Closer, r Reason) { evicted = append(evicted, r) }
		c := &fakeConn{}
		if err := m.Track(1, c); err != nil || !m.Touch(1) || m.Touch(2) || m.Len() != 1 {
			t.Fatalf("Track/Touch/Len: %v", err)
		}
		if err := m.Track(2, &fakeConn{}); err != nil || !m.Remove(2, m.trackedConn(2)) {
			t.Fatalf("Track/Remove: %v", err)
		}
		// Jump the clock past the timeout: key 1 expires (after its
		// grace period, if any), never before.
		vt := time.Duration(0)
		m.clock = func() time.Duration { return vt }
		vt = cfg.IdleTimeout - 1
		m.advance()
		m.advance()
		if c.closes.Load() != 0 {
			t.Fatal("evicted before IdleTimeout")
		}
		for range 3 {
			if c.closes.Load() != 0 {
				break
			}
			vt += cfg.IdleTimeout + cfg.Grace
			m.advance()
		}
		if c.closes.Load() != 1 || !slices.Equal(evicted, []Reason{Removed, TimedOut}) {
			t.Fatalf("closes %d, evictions %v", c.closes.Load(), evicted)
		}
		m.Close()
	})
}

// FuzzPingerConfig feeds NewPinger arbitrary durations and counts. It
// must never panic; a config it rejects gives a *ConfigError and no
// Pinger; one it accepts is exactly one the documentation allows, and
// its Pinger does not ping before Idle/2, nor at all after its context
// is done.
func FuzzPingerConfig(f *testing.F) {
	f.Add(int64(time.Second), int64(time.Second), int64(0), 3, false, false)
	f.Add(int64(1), int64(1), int64(1), 1, true, false)
	f.Add(int64(math.MaxInt64/4), int64(math.MaxInt64/4), int64(math.MaxInt64/4), math.MaxInt, true, false)
	f.Add(int64(math.MaxInt64), int64(math.MinInt64), int64(-1), 0, false, true)
	f.Add(int64(0), int64(0), int64(math.MaxInt64), -1, false, true)
	f.Fuzz(func(t *testing.T, idle, interval, timeout int64, count int, noJitter, nilPing bool) {
		pinged := 0
		cfg := PingerConfig{
			Idle: time.Duration(idle), Interval: time.Duration(interval),
			AnswerTimeout: time.Duration(timeout), Count: count, NoJitter: noJitter,
			Ping: func(context.Context) error { pinged++; return nil },
		}
		if nilPing {
			cfg.Ping = nil
		}
		documented := cfg.Idle > 0 && cfg.Idle <= maxDuration &&
			cfg.Interval > 0 && cfg.Interval <= maxDuration &&
			cfg.AnswerTimeout >= 0 && cfg.AnswerTimeout <= maxDuration &&
			count >= 1 && !nilPing
		p, err := NewPinger(cfg)
		if err != nil {
			checkConfigError(t, err, "Idle", "Interval", "AnswerTimeout", "Count", "Ping")
			if p != nil {
				t.Fatal("a Pinger with an error")
			}
			if documented {
				t.Fatalf("%+v rejected: %v", cfg, err)
			}
			return
		}
		if !documented {
			t.Fatalf("%+v accepted", cfg)
		}
		if want := pick(cfg.AnswerTimeout == 0, cfg.Interval, cfg.AnswerTimeout); p.cfg.AnswerTimeout != want {
			t.Fatalf("Timeout %v, want %v", p.cfg.AnswerTimeout, want)
		}
		if d := p.firstIdle(); d > cfg.Idle || d < cfg.Idle/2 || noJitter && d != cfg.Idle {
			t.Fatalf("first ping after %v for Idle %v", d, cfg.Idle)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := p.Run(ctx); !errors.Is(err, context.Canceled) || pinged != 0 {
			t.Fatalf("Run with a done context: %v, %d pings", err, pinged)
		}
		if cfg.Idle/2 > time.Second {
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			err := p.Run(ctx)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) || pinged != 0 {
				t.Fatalf("Run for 1ms with Idle %v: %v, %d pings", cfg.Idle, err, pinged)
			}
		}
	})
}

func pick[T any](cond bool, a, b T) T {
	if cond {
		return a
	}
	return b
}
