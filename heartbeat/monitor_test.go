package heartbeat

import (
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestReasonString(t *testing.T) {
	noLeaks(t)
	assert.Equal(t, "timed out", TimedOut.String())
	assert.Equal(t, "replaced", Replaced.String())
	assert.Equal(t, "removed", Removed.String())
	assert.Equal(t, "Reason(0)", Reason(0).String())
	assert.Equal(t, "Reason(42)", Reason(42).String())
}

func TestNewMonitorValidation(t *testing.T) {
	noLeaks(t)
	ms := time.Millisecond
	for _, tc := range []struct {
		name   string
		cfg    MonitorConfig[int]
		fields []string
	}{
		{"zero", MonitorConfig[int]{}, []string{"IdleTimeout"}},
		{"negative timeout", MonitorConfig[int]{IdleTimeout: -ms}, []string{"IdleTimeout"}},
		{"sub-ms timeout", MonitorConfig[int]{IdleTimeout: ms / 2}, []string{"IdleTimeout"}},
		{"negative tick", MonitorConfig[int]{IdleTimeout: ms, Tick: -1}, []string{"Tick"}},
		{"tiny tick", MonitorConfig[int]{IdleTimeout: 10 * ms, Tick: 1}, []string{"Tick"}},
		{"tick above timeout", MonitorConfig[int]{IdleTimeout: 10 * ms, Tick: 11 * ms}, []string{"Tick"}},
		{"negative grace", MonitorConfig[int]{IdleTimeout: ms, Grace: -1}, []string{"Grace"}},
		{"negative shards", MonitorConfig[int]{IdleTimeout: ms, Shards: -1}, []string{"Shards"}},
		{"too many shards", MonitorConfig[int]{IdleTimeout: ms, Shards: 1 << 20}, []string{"Shards"}},
		{"too many ticks", MonitorConfig[int]{IdleTimeout: 10001 * ms, Tick: ms}, []string{"Tick"}},
		{"huge timeout", MonitorConfig[int]{IdleTimeout: 1 << 62}, []string{"IdleTimeout"}},
		{"huge grace", MonitorConfig[int]{IdleTimeout: ms, Grace: 1 << 62}, []string{"Grace"}},
		{"several", MonitorConfig[int]{IdleTimeout: -1, Grace: -1, Shards: -1}, []string{"IdleTimeout", "Grace", "Shards"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMonitor(tc.cfg)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.fields[0], ce.Field)
			for _, f := range tc.fields {
				assert.Contains(t, err.Error(), "invalid "+f)
			}
		})
	}
	for _, cfg := range []MonitorConfig[int]{
		{IdleTimeout: time.Millisecond},
		{IdleTimeout: 10 * time.Second, Tick: time.Millisecond},
		{IdleTimeout: time.Hour, Grace: 1000 * time.Hour},
		{IdleTimeout: 10 * time.Millisecond, Tick: 10 * time.Millisecond, Grace: time.Second, Shards: 3},
	} {
		m, err := NewMonitor(cfg)
		require.NoError(t, err, "%+v", cfg)
		require.NoError(t, m.Close())
	}
}

func TestClockConfig(t *testing.T) {
	noLeaks(t)
	for _, tc := range []struct {
		timeout, tick, res time.Duration
	}{
		{80 * time.Millisecond, 20 * time.Millisecond, 10 * time.Millisecond},
		{80 * time.Millisecond, 0, 5 * time.Millisecond},
		{time.Millisecond, 0, time.Millisecond / 2},
		{time.Hour, time.Hour, 30 * time.Minute},
		{10 * time.Second, time.Millisecond, time.Millisecond / 2},
	} {
		m, err := newMonitor(MonitorConfig[int]{IdleTimeout: tc.timeout, Tick: tc.tick})
		require.NoError(t, err)
		assert.Equal(t, tc.res, m.res, "%v/%v", tc.timeout, tc.tick)
		n := len(m.starts)
		assert.Zero(t, n&(n-1), "ring size is a power of two")
		assert.GreaterOrEqual(t, n, int(2*tc.timeout/m.res)+8)
		assert.LessOrEqual(t, n, 1<<16)
	}
}

// TestStalledClock checks that a delayed clock goroutine delays
// evictions instead of making them early: activity during the stall is
// stamped with the old epoch, which lasts until the goroutine runs again.
func TestStalledClock(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[string]()
	m := manual(t, MonitorConfig[string]{OnEvict: rec.onEvict})
	require.NoError(t, m.Track("before", &fakeConn{}))
	m.tick(1)
	require.NoError(t, m.Track("during", &fakeConn{})) // at any time up to 1s

	at := func(d time.Duration) {
		m.clock = func() time.Duration { return d }
		m.advance()
	}
	at(time.Second) // the goroutine wakes up late
	assert.Equal(t, []string{"before"}, rec.keys())
	at(time.Second + 75*time.Millisecond)
	assert.Equal(t, []string{"before"}, rec.keys(), "not early")
	at(time.Second + 80*time.Millisecond)
	assert.Equal(t, []string{"before", "during"}, rec.keys())
}

func TestEpochWrap(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{OnEvict: rec.onEvict})
	m.cur = math.MaxUint32 - 3
	m.cutoff = m.cur - 1
	m.now.Store(m.cur)
	vt := time.Duration(0)
	step := func() {
		vt += m.res
		m.clock = func() time.Duration { return vt }
		m.advance()
	}
	require.NoError(t, m.Track(1, &fakeConn{}))
	step()
	require.NoError(t, m.Track(2, &fakeConn{}))
	for range 7 {
		step()
		require.True(t, m.Touch(2)) // last touched 8 epochs in
	}
	assert.Empty(t, rec.all())
	step() // 9 epochs after key 1's, across the wrap
	assert.Equal(t, []int{1}, rec.keys())
	assert.Less(t, m.cur, uint32(10), "the epoch counter wrapped")
	for range 7 {
		step()
	}
	assert.Equal(t, []int{1}, rec.keys())
	step()
	assert.Equal(t, []int{1, 2}, rec.keys())
}

func TestRingFull(t *testing.T) {
	noLeaks(t)
	// Epochs are not started when the ring would overflow; activity then
	// keeps the current epoch, which can only delay eviction.
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{OnEvict: rec.onEvict})
	require.NoError(t, m.Track(1, &fakeConn{}))
	for i := range 10 * len(m.starts) {
		vt := time.Duration(i) * m.res / 100 // far too fast to expire anything
		m.clock = func() time.Duration { return vt }
		m.advance()
	}
	assert.Less(t, int(m.cur-m.cutoff), len(m.starts))
	assert.Empty(t, rec.all())
	m.tick(m.cur + 20)
	assert.Len(t, rec.all(), 1)
}

func TestShardsRounding(t *testing.T) {
	noLeaks(t)
	for in, want := range map[int]int{1: 1, 2: 2, 3: 4, 5: 8, 1000: 1024, 4096: 4096} {
		m, err := newMonitor(MonitorConfig[int]{IdleTimeout: time.Second, Shards: in})
		require.NoError(t, err)
		assert.Len(t, m.shards, want, "Shards: %d", in)
		for k := range 1000 {
			assert.Less(t, int(hashOf(m, k)>>m.shift), want)
		}
	}
	m, err := newMonitor(MonitorConfig[int]{IdleTimeout: time.Second})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(m.shards), 8)
}

func TestTouchAllocs(t *testing.T) {
	noLeaks(t)
	m := manual(t, MonitorConfig[string]{})
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprint("client-", i)
		require.NoError(t, m.Track(keys[i], &fakeConn{}))
	}
	allocs := testing.AllocsPerRun(100, func() {
		m.now.Add(1) // a new epoch: every Touch moves its entry
		for _, k := range keys {
			m.Touch(k)
		}
	})
	assert.Zero(t, allocs, "Touch moving entries")
	allocs = testing.AllocsPerRun(100, func() {
		for _, k := range keys {
			m.Touch(k) // already fresh: the lock-free path
		}
	})
	assert.Zero(t, allocs, "Touch of fresh entries")
}

func TestEvictionOrder(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{OnEvict: rec.onEvict})
	// Keys 0..7 become active at epochs 0..7.
	for e := range uint32(8) {
		m.tick(e)
		require.NoError(t, m.Track(int(e), &fakeConn{id: int(e)}))
	}
	m.tick(8)
	assert.Empty(t, rec.all(), "nothing is due before IdleTimeout has passed")
	for e := uint32(9); e < 17; e++ {
		m.tick(e)
		assert.Equal(t, []int{int(e) - 9}, rec.keys()[e-9:], "tick %d", e)
	}
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7}, rec.keys())
	for _, ev := range rec.all() {
		assert.Equal(t, TimedOut, ev.reason)
		assert.Equal(t, ev.key, ev.c.(*fakeConn).id)
		assert.Equal(t, int32(1), ev.c.(*fakeConn).closes.Load())
	}
	assert.Zero(t, m.Len())
}

func TestEvictionOrderWithinShard(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[string]()
	m := manual(t, MonitorConfig[string]{Shards: 1, OnEvict: rec.onEvict})
	keys := []string{"d", "a", "c", "e", "b"}
	for _, k := range keys {
		require.NoError(t, m.Track(k, &fakeConn{}))
	}
	assert.True(t, m.Touch("a")) // same epoch: order unchanged
	m.tick(1)
	assert.True(t, m.Touch("c")) // moves behind the others
	m.tick(9)
	assert.Equal(t, []string{"d", "a", "e", "b"}, rec.keys())
	m.tick(10)
	assert.Equal(t, []string{"d", "a", "e", "b", "c"}, rec.keys())
}

func TestTouchDefersEviction(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{OnEvict: rec.onEvict})
	c := &fakeConn{}
	require.NoError(t, m.Track(1, c))
	for e := uint32(1); e <= 40; e++ {
		m.tick(e)
		if e%8 == 0 {
			assert.True(t, m.Touch(1))
		}
	}
	assert.Empty(t, rec.all())
	assert.Equal(t, 1, m.Len())
	m.tick(48) // last touch at 40
	assert.Empty(t, rec.all())
	m.tick(49)
	require.Len(t, rec.all(), 1)
	assert.False(t, m.Touch(1))
	assert.Zero(t, m.Len())
	assert.Equal(t, int32(1), c.closes.Load())
}

func TestReplace(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[string]()
	m := manual(t, MonitorConfig[string]{OnEvict: rec.onEvict})
	old, cur := &fakeConn{id: 1}, &fakeConn{id: 2}
	require.NoError(t, m.Track("client", old))
	m.tick(5)
	require.NoError(t, m.Track("client", cur))

	evs := rec.all()
	require.Len(t, evs, 1, "the stale connection is evicted at once")
	assert.Equal(t, "client", evs[0].key)
	assert.Same(t, old, evs[0].c)
	assert.Equal(t, Replaced, evs[0].reason)
	assert.Equal(t, int32(1), old.closes.Load())
	assert.Zero(t, cur.closes.Load())
	assert.Equal(t, 1, m.Len())

	// The new connection's clock started at epoch 5.
	m.tick(13)
	assert.Len(t, rec.all(), 1)
	m.tick(14)
	evs = rec.all()
	require.Len(t, evs, 2)
	assert.Same(t, cur, evs[1].c)
	assert.Equal(t, TimedOut, evs[1].reason)
}

func TestReconnectStorm(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[string]()
	m := manual(t, MonitorConfig[string]{OnEvict: rec.onEvict})
	conns := make([]*fakeConn, 1000)
	for i := range conns {
		conns[i] = &fakeConn{id: i}
		require.NoError(t, m.Track("rebooting-client", conns[i]))
	}
	assert.Equal(t, 1, m.Len(), "stale connections do not pile up")
	assert.Len(t, rec.all(), len(conns)-1)
	for i, c := range conns {
		want := int32(1)
		if i == len(conns)-1 {
			want = 0
		}
		assert.Equal(t, want, c.closes.Load(), "conn %d", i)
	}
}

func TestTrackSameConnAgain(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{OnEvict: rec.onEvict})
	c := &fakeConn{}
	require.NoError(t, m.Track(1, c))
	m.tick(5)
	require.NoError(t, m.Track(1, c))
	assert.Empty(t, rec.all())
	assert.Zero(t, c.closes.Load())
	m.tick(13)
	assert.Empty(t, rec.all(), "tracking again refreshed the connection")
	m.tick(14)
	assert.Len(t, rec.all(), 1)
}

// uncomparable is an io.Closer whose dynamic type cannot be compared.
type uncomparable struct {
	f []int
}

func (u uncomparable) Close() error { _ = u.f; return nil }

func TestUncomparableConn(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{OnEvict: rec.onEvict})
	require.NoError(t, m.Track(1, uncomparable{}))
	require.NotPanics(t, func() {
		require.NoError(t, m.Track(1, uncomparable{}))
		assert.False(t, m.Remove(1, uncomparable{}))
	})
	assert.Equal(t, []int{1}, rec.keys())
	assert.Equal(t, Replaced, rec.all()[0].reason)
}

func TestRemove(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{OnEvict: rec.onEvict})
	c, other := &fakeConn{}, &fakeConn{}
	require.NoError(t, m.Track(1, c))
	require.NoError(t, m.Track(2, &fakeConn{}))

	assert.False(t, m.Remove(1, other), "a different connection is not removed")
	assert.False(t, m.Remove(1, nil))
	assert.False(t, m.Remove(3, c))
	assert.Empty(t, rec.all())

	assert.True(t, m.Remove(1, c))
	assert.False(t, m.Remove(1, c), "only once")
	evs := rec.all()
	require.Len(t, evs, 1)
	assert.Equal(t, eviction[int]{1, c, Removed, evs[0].at}, evs[0])
	assert.Zero(t, c.closes.Load(), "Remove does not close")
	assert.False(t, m.Touch(1))
	assert.Equal(t, 1, m.Len())

	m.tick(100)
	assert.Equal(t, []int{1, 2}, rec.keys(), "a removed connection never times out")
}

func TestRemoveAfterReconnect(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[string]()
	m := manual(t, MonitorConfig[string]{OnEvict: rec.onEvict})
	old, cur := &fakeConn{}, &fakeConn{}
	require.NoError(t, m.Track("c", old))
	require.NoError(t, m.Track("c", cur))
	// The old connection's handler exits late and cleans up.
	assert.False(t, m.Remove("c", old))
	assert.True(t, m.Touch("c"))
	assert.Equal(t, 1, m.Len())
}

func TestTrackErrors(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m, err := NewMonitor(MonitorConfig[int]{IdleTimeout: time.Second, OnEvict: rec.onEvict})
	require.NoError(t, err)
	assert.Error(t, m.Track(1, nil))
	_, err = m.TrackConn(1, nil)
	assert.Error(t, err)
	assert.Zero(t, m.Len())

	require.NoError(t, m.Close())
	require.NoError(t, m.Close(), "Close is idempotent")
	assert.ErrorIs(t, m.Track(1, &fakeConn{}), ErrClosed)
	_, err = m.TrackConn(1, &readConn{})
	assert.ErrorIs(t, err, ErrClosed)
	assert.False(t, m.Touch(1))
	assert.Zero(t, m.Len())
	assert.Empty(t, rec.all())
}

func TestCloseDrains(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{Grace: time.Hour, OnEvict: rec.onEvict})
	graced := &halfConn{}
	require.NoError(t, m.Track(-1, graced))
	m.tick(9)
	assert.Equal(t, int32(1), graced.closeWrites.Load())
	assert.Zero(t, m.Len(), "in grace, no longer tracked")

	conns := make([]*fakeConn, 1000)
	for i := range conns {
		conns[i] = &fakeConn{id: i}
		require.NoError(t, m.Track(i, conns[i]))
	}
	assert.Empty(t, rec.all())
	require.NoError(t, m.Close())

	byConn := map[io.Closer]Reason{}
	for _, ev := range rec.all() {
		_, dup := byConn[ev.c]
		require.False(t, dup)
		byConn[ev.c] = ev.reason
	}
	require.Len(t, byConn, len(conns)+1)
	assert.Equal(t, TimedOut, byConn[graced])
	assert.Equal(t, int32(1), graced.closes.Load(), "Close ends the grace period")
	for _, c := range conns {
		assert.Equal(t, Removed, byConn[c])
		assert.Zero(t, c.closes.Load())
	}
	assert.Zero(t, m.Len())
	assertNoGraceMarks(t, m)
}

func TestCloseStopsGoroutine(t *testing.T) {
	noLeaks(t)
	for range 10 {
		m, err := NewMonitor(MonitorConfig[int]{IdleTimeout: time.Millisecond})
		require.NoError(t, err)
		require.NoError(t, m.Track(1, &fakeConn{}))
		time.Sleep(time.Millisecond)
		require.NoError(t, m.Close())
	}
}

func TestExpiryDeadline(t *testing.T) {
	noLeaks(t)
	const timeout, tick = 60 * time.Millisecond, 20 * time.Millisecond
	rec := newRecorder[int]()
	m, err := NewMonitor(MonitorConfig[int]{IdleTimeout: timeout, Tick: tick, OnEvict: rec.onEvict})
	require.NoError(t, err)
	defer m.Close()

	starts := make([]time.Time, 20)
	for i := range starts {
		starts[i] = time.Now()
		require.NoError(t, m.Track(i, &fakeConn{}))
		time.Sleep(time.Duration(rand.N(5)) * time.Millisecond)
	}
	for range starts {
		ev := rec.wait(t, 5*time.Second)
		idle := ev.at.Sub(starts[ev.key])
		// Never early (exact: the Monitor counts from after starts[i]
		// on the same monotonic clock), and at most a tick late plus
		// scheduling slack: the Monitor's goroutine may wait for a core
		// on a loaded machine, and a coarse clock (Windows', Wine's)
		// steps by up to tens of milliseconds.
		assert.GreaterOrEqual(t, idle, timeout, "key %d", ev.key)
		assert.LessOrEqual(t, idle, timeout+tick+2*time.Second, "key %d", ev.key)
		assert.Equal(t, TimedOut, ev.reason)
	}
}

// TestNoFalseEvictions refreshes connections far more often than the
// timeout and checks that none is evicted less than IdleTimeout after its
// last refresh. Under a steady stream that means none at all; if the
// machine is so loaded that a refreshing goroutine stalls for longer
// than the timeout, evicting its connections is correct.
func TestNoFalseEvictions(t *testing.T) {
	noLeaks(t)
	const timeout = 100 * time.Millisecond
	const keys, workers = 2000, 8
	var (
		base    = time.Now()
		last    [keys]atomic.Int64 // before the latest successful Touch
		evicted atomic.Int32
	)
	m, err := NewMonitor(MonitorConfig[int]{
		IdleTimeout: timeout,
		OnEvict: func(k int, _ io.Closer, r Reason) {
			if r != TimedOut {
				return // Close at the end
			}
			evicted.Add(1)
			idle := time.Since(base) - time.Duration(last[k].Load())
			assert.GreaterOrEqual(t, idle, timeout, "key %d evicted early", k)
		},
	})
	require.NoError(t, err)
	defer m.Close()

	for k := range keys {
		last[k].Store(int64(time.Since(base)))
		require.NoError(t, m.Track(k, &fakeConn{}))
	}
	stop := time.Now().Add(500 * time.Millisecond)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for time.Now().Before(stop) {
				for k := w; k < keys; k += workers {
					now := time.Since(base)
					if m.Touch(k) {
						last[k].Store(int64(now))
					}
				}
				time.Sleep(timeout / 5)
			}
		})
	}
	wg.Wait()
	if n := evicted.Load(); n > 0 {
		t.Logf("%d connections idle for longer than the timeout (stalled refreshers)", n)
	}
}

func TestConcurrentTouch(t *testing.T) {
	noLeaks(t)
	m, err := NewMonitor(MonitorConfig[uint64]{IdleTimeout: time.Millisecond, Tick: time.Millisecond})
	require.NoError(t, err)
	defer m.Close()
	const keys = 512
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range 20000 {
				k := r.Uint64N(keys)
				if !m.Touch(k) {
					_ = m.Track(k, &fakeConn{})
				}
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, m.Len(), keys)
}

// TestExactlyOnce races Track, replacement, Touch, Remove, wrapper reads
// and wrapper Close against expiry (with and without grace) and Close,
// and checks that every tracked connection is evicted exactly once, and
// closed by the Monitor exactly when the reason says so.
func TestExactlyOnce(t *testing.T) {
	noLeaks(t)
	for _, grace := range []time.Duration{0, 2 * time.Millisecond} {
		t.Run(fmt.Sprint("grace=", grace), func(t *testing.T) {
			noLeaks(t)
			var (
				mu       sync.Mutex
				evicted  = map[io.Closer][]Reason{}
				tracked  sync.Map // io.Closer -> struct{}
				nTracked atomic.Int64
			)
			m, err := NewMonitor(MonitorConfig[int]{
				IdleTimeout: 3 * time.Millisecond, Tick: time.Millisecond, Grace: grace,
				OnEvict: func(_ int, c io.Closer, r Reason) {
					mu.Lock()
					evicted[c] = append(evicted[c], r)
					mu.Unlock()
				},
			})
			require.NoError(t, err)

			const keys = 32
			deadline := time.Now().Add(400 * time.Millisecond)
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(w), 2))
					mine := map[int]io.Closer{}
					for time.Now().Before(deadline) {
						k := int(r.UintN(keys))
						switch op := r.UintN(10); {
						case op < 3:
							var c io.Closer
							if r.UintN(2) == 0 {
								c = &halfConn{}
								if m.Track(k, c) != nil {
									continue
								}
							} else {
								wc, err := m.TrackConn(k, &readConn{})
								if err != nil {
									continue
								}
								c = wc
							}
							if _, dup := tracked.LoadOrStore(c, struct{}{}); !dup {
								nTracked.Add(1)
							}
							mine[k] = c
						case op < 6:
							if c, ok := mine[k]; ok {
								if rc, ok := c.(io.Reader); ok {
									_, _ = rc.Read(make([]byte, 1))
								}
							}
							m.Touch(k)
						case op < 8:
							if c, ok := mine[k]; ok {
								if _, ok := c.(io.Reader); ok && r.UintN(2) == 0 {
									c.Close() // the wrapper removes itself
								} else {
									m.Remove(k, c)
								}
								delete(mine, k)
							}
						default:
							time.Sleep(time.Duration(r.UintN(2000)) * time.Microsecond)
						}
					}
				})
			}
			wg.Wait()
			require.NoError(t, m.Close())

			mu.Lock()
			defer mu.Unlock()
			require.Equal(t, int(nTracked.Load()), len(evicted))
			reasons := map[Reason]int{}
			tracked.Range(func(k, _ any) bool {
				c := k.(io.Closer)
				rs := evicted[c]
				if !assert.Len(t, rs, 1, "%T %p: %v", c, c, rs) {
					return true
				}
				reasons[rs[0]]++
				if hc, ok := c.(*halfConn); ok {
					want := int32(0)
					if rs[0] != Removed {
						want = 1
					}
					assert.Equal(t, want, hc.closes.Load(), "%v", rs[0])
					if grace == 0 {
						assert.Zero(t, hc.closeWrites.Load())
					}
				}
				return true
			})
			t.Logf("tracked %d: %v", nTracked.Load(), reasons)
			assert.NotZero(t, reasons[TimedOut])
			assert.NotZero(t, reasons[Replaced])
			assert.NotZero(t, reasons[Removed])
		})
	}
}

// TestTable checks the shard's hash index against a map under random
// inserts and deletes, with a single shard so that probe runs get long.
func TestTable(t *testing.T) {
	noLeaks(t)
	testTable(t, func(i uint64) uint64 { return i })
	testTable(t, func(i uint64) string { return fmt.Sprint("key-", i) })
	testTable(t, func(i uint64) [3]uint64 { return [3]uint64{i, i * 7, 1} })
}

func testTable[K comparable](t *testing.T, key func(uint64) K) {
	rec := newRecorder[K]()
	m := manual(t, MonitorConfig[K]{Shards: 1, OnEvict: rec.onEvict})
	ref := map[K]io.Closer{}
	r := rand.New(rand.NewPCG(3, 4))
	check := func() {
		require.Equal(t, len(ref), m.Len())
		for k := range ref {
			require.True(t, m.Touch(k), "%v", k)
			// Touched in this epoch, k must now be found lock-free,
			// however long its probe run.
			h := hashOf(m, k)
			require.True(t, m.shardOf(h).fresh(h, m.now.Load()), "%v", k)
		}
		sh := &m.shards[0]
		seen := 0
		for i := sh.head; i != nilIdx; i = sh.at(i).next {
			e := sh.at(i)
			require.Same(t, ref[e.key], e.conn)
			p, j := sh.find(e.key, hashOf(m, e.key))
			require.Equal(t, i, j)
			require.Equal(t, p, sh.slotOf(i))
			seen++
		}
		require.Equal(t, len(ref), seen)
	}
	for step := range 30000 {
		k := key(r.Uint64N(3000))
		if c, ok := ref[k]; ok && r.UintN(3) > 0 {
			require.True(t, m.Remove(k, c))
			delete(ref, k)
		} else {
			c := &fakeConn{id: step}
			require.NoError(t, m.Track(k, c))
			ref[k] = c
		}
		if step%5000 == 0 {
			check()
		}
	}
	check()
	assert.False(t, m.Touch(key(1<<40)), "absent keys are not found")
}

func hashOf[K comparable](m *Monitor[K], k K) uint64 {
	return maphash.Comparable(m.seed, k)
}

func TestErrShardFull(t *testing.T) {
	noLeaks(t)
	m := manual(t, MonitorConfig[int]{Shards: 1})
	m.shards[0].used = maxEntries
	err := m.Track(1, &fakeConn{})
	assert.ErrorIs(t, err, ErrFull)
	_, err = m.TrackConn(2, &readConn{})
	assert.ErrorIs(t, err, ErrFull)
	assert.Zero(t, m.Len())
}

// nilCloser is an io.Closer whose nil value cannot be closed.
type nilCloser map[string]int

func (c nilCloser) Close() error { c["closed"]++; return nil }

// TestTypedNilConn checks that an interface holding a nil pointer (or
// map) is refused like nil itself: it would panic when closed, on the
// Monitor's goroutine at timeout.
func TestTypedNilConn(t *testing.T) {
	noLeaks(t)
	rec := newRecorder[int]()
	m := manual(t, MonitorConfig[int]{OnEvict: rec.onEvict})
	var tc *net.TCPConn
	var fc *fakeConn
	var nc nilCloser
	assert.ErrorIs(t, m.Track(1, nil), ErrNilConn)
	assert.ErrorIs(t, m.Track(1, tc), ErrNilConn)
	assert.ErrorIs(t, m.Track(1, fc), ErrNilConn)
	assert.ErrorIs(t, m.Track(1, nc), ErrNilConn)
	w, err := m.TrackConn(2, tc)
	assert.ErrorIs(t, err, ErrNilConn)
	assert.Nil(t, w)
	w, err = m.TrackConn(2, nil)
	assert.ErrorIs(t, err, ErrNilConn)
	assert.Nil(t, w)
	assert.False(t, m.Remove(1, tc))
	assert.Zero(t, m.Len(), "nothing tracked")
	assert.False(t, m.Touch(1))
	assert.False(t, m.Touch(2))

	// A tracked key is not replaced by a typed nil either.
	c := &fakeConn{}
	require.NoError(t, m.Track(3, c))
	assert.ErrorIs(t, m.Track(3, tc), ErrNilConn)
	assert.Zero(t, c.closes.Load())
	m.tick(100)
	require.NoError(t, m.Close())
	assert.Equal(t, []int{3}, rec.keys(), "OnEvict only for the real connection")
}

// TestLeakCheck checks that the leak check used by every test sees a
// Monitor's goroutine until Close returns, so a Monitor left running
// fails the test that started it.
func TestLeakCheck(t *testing.T) {
	noLeaks(t)
	m, err := NewMonitor(MonitorConfig[int]{IdleTimeout: time.Second})
	require.NoError(t, err)
	leak := goleak.Find()
	require.Error(t, leak)
	assert.Contains(t, leak.Error(), "heartbeat.(*Monitor[...]).run")
	require.NoError(t, m.Close())
	assert.NoError(t, goleak.Find(), "Close stopped the goroutine")
}

// TestTrackRemoveAllocs: refreshing a key by tracking its connection again,
// and a Remove that does not match, allocate nothing.
func TestTrackRemoveAllocs(t *testing.T) {
	noLeaks(t)
	m := manual(t, MonitorConfig[int]{})
	c, other := &fakeConn{}, &fakeConn{}
	require.NoError(t, m.Track(1, c))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = m.Track(1, c) }), "Track refresh")
	assert.Zero(t, testing.AllocsPerRun(100, func() { m.Remove(1, other) }), "Remove of another connection")
	assert.Equal(t, 1, m.Len())
}
