package heartbeat

import (
	"container/list"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The refresh benchmarks track each count of refreshKeys connections
// (1,000 fit in the cache, 100,000 do not) and touch them in a fixed
// pseudo-random order; the parallel ones track benchConns. The memory
// benchmarks report the live heap per tracked connection at memConns
// connections. The designs in memory share one connection value, so only
// the tracking structures are measured; the SetReadDeadline baseline uses
// real loopback TCP connections.
const (
	benchConns = 100_000
	memConns   = 1_000_000
)

var refreshKeys = []int{1_000, 100_000}

// byKeys runs bench once per count of keys (refreshKeys if none), as
// keys=N.
func byKeys(b *testing.B, bench func(b *testing.B, n int), keys ...int) {
	if keys == nil {
		keys = refreshKeys
	}
	for _, n := range keys {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) { bench(b, n) })
	}
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

var nopConn io.Closer = nopCloser{}

func benchOrder(n int) []uint64 {
	r := rand.New(rand.NewPCG(1, 2))
	order := make([]uint64, n)
	for i, k := range r.Perm(n) {
		order[i] = uint64(k)
	}
	return order
}

// seedQueue is the straightforward timeout queue: one mutex, a
// container/list ordered by last activity and a map from key to element.
type seedQueue struct {
	mu    sync.Mutex
	order list.List
	index map[uint64]*list.Element
}

type seedEntry struct {
	key  uint64
	conn io.Closer
	last time.Time
}

func newSeedQueue() *seedQueue {
	return &seedQueue{index: make(map[uint64]*list.Element)}
}

func (q *seedQueue) Track(key uint64, c io.Closer) {
	now := time.Now()
	q.mu.Lock()
	q.index[key] = q.order.PushBack(&seedEntry{key, c, now})
	q.mu.Unlock()
}

func (q *seedQueue) Touch(key uint64) bool {
	now := time.Now()
	q.mu.Lock()
	e, ok := q.index[key]
	if ok {
		e.Value.(*seedEntry).last = now
		q.order.MoveToBack(e)
	}
	q.mu.Unlock()
	return ok
}

// timerSet is the timer-per-connection design: each connection owns a
// time.AfterFunc timer that is Reset on every activity.
type timerSet struct {
	timers []*time.Timer // stands for a field of each connection
	fired  atomic.Int64
}

func newTimerSet(n int, timeout time.Duration) *timerSet {
	s := &timerSet{timers: make([]*time.Timer, n)}
	for k := range s.timers {
		s.timers[k] = time.AfterFunc(timeout, func() { s.evict(uint64(k)) })
	}
	return s
}

func (s *timerSet) evict(uint64) { s.fired.Add(1) }

func (s *timerSet) stop() {
	for _, t := range s.timers {
		t.Stop()
	}
}

func newBenchMonitor(b *testing.B, n int) *Monitor[uint64] {
	m, err := NewMonitor(MonitorConfig[uint64]{IdleTimeout: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	for k := range uint64(n) {
		if err := m.Track(k, nopConn); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() { m.Close() })
	return m
}

func BenchmarkMonitorRefresh(b *testing.B) { byKeys(b, benchMonitorRefresh) }

func benchMonitorRefresh(b *testing.B, n int) {
	m := newBenchMonitor(b, n)
	order := benchOrder(n)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Touch(order[i])
		if i++; i == len(order) {
			i = 0
		}
	}
}

// BenchmarkMonitorRefreshMove is the worst case for the Monitor: the
// clock advances before every Touch, so every Touch moves its entry to
// the tail of the list (as when connections are active less than once
// per tick).
func BenchmarkMonitorRefreshMove(b *testing.B) { byKeys(b, benchMonitorRefreshMove) }

func benchMonitorRefreshMove(b *testing.B, n int) {
	m, err := newMonitor(MonitorConfig[uint64]{IdleTimeout: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	for k := range uint64(n) {
		_ = m.Track(k, nopConn)
	}
	order := benchOrder(n)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.now.Add(1)
		m.Touch(order[i])
		if i++; i == len(order) {
			i = 0
		}
	}
}

// BenchmarkClockNow and BenchmarkClockCoarse compare stamping activity
// with the time against loading the Monitor's coarse clock.
func BenchmarkClockNow(b *testing.B) {
	var last int64
	for b.Loop() {
		last = time.Now().UnixNano()
	}
	runtime.KeepAlive(last)
}

func BenchmarkClockCoarse(b *testing.B) {
	var m Monitor[uint64]
	var last uint32
	for b.Loop() {
		last = m.now.Load()
	}
	runtime.KeepAlive(last)
}

func BenchmarkTimerRefresh(b *testing.B) { byKeys(b, benchTimerRefresh) }

func benchTimerRefresh(b *testing.B, n int) {
	s := newTimerSet(n, time.Hour)
	defer s.stop()
	order := benchOrder(n)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.timers[order[i]].Reset(time.Hour)
		if i++; i == len(order) {
			i = 0
		}
	}
}

func BenchmarkSeedQueueRefresh(b *testing.B) { byKeys(b, benchSeedQueueRefresh) }

func benchSeedQueueRefresh(b *testing.B, n int) {
	q := newSeedQueue()
	for k := range uint64(n) {
		q.Track(k, nopConn)
	}
	order := benchOrder(n)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		q.Touch(order[i])
		if i++; i == len(order) {
			i = 0
		}
	}
}

// BenchmarkDeadlineRefresh is what most Go servers do instead of a
// Monitor: a read deadline on each connection, pushed forward before
// every read (SetReadDeadline(time.Now().Add(timeout))). It uses real
// loopback TCP connections, and measures only the deadline: the read
// itself would cost the same with a Monitor. 100,000 connections need
// 100,000 descriptors; where the limit cannot be raised that far, the
// 16,000 row shows the trend.
func BenchmarkDeadlineRefresh(b *testing.B) {
	byKeys(b, benchDeadlineRefresh, 1_000, 16_000, 100_000)
}

func benchDeadlineRefresh(b *testing.B, n int) {
	conns := loopbackConns(b, n)
	order := benchOrder(n)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := conns[order[i]].SetReadDeadline(time.Now().Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(order) {
			i = 0
		}
	}
}

// loopbackConns returns the server ends of n loopback TCP connections,
// closed when b ends. Their clients are closed at once (a server's
// deadline does not care), so n needs n+1 descriptors at a time, and the
// connections are spread over listeners on 127.0.0.1-127.0.0.8 so that
// the clients' ephemeral ports suffice.
func loopbackConns(b *testing.B, n int) []*net.TCPConn {
	b.Helper()
	if err := raiseFileLimit(n + 1000); err != nil {
		b.Skipf("%d connections need %d file descriptors: %v", n, n+1000, err)
	}
	const listeners = 8
	conns := make([]*net.TCPConn, 0, n)
	b.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for l := range listeners {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", l+1))
		if err != nil {
			b.Fatal(err)
		}
		for range (n + l) / listeners {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			s, err := ln.Accept()
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
			conns = append(conns, s.(*net.TCPConn))
		}
		ln.Close()
	}
	if len(conns) != n {
		b.Fatalf("%d connections, want %d", len(conns), n)
	}
	return conns
}

// runParallel touches keys from order in every goroutine, each starting
// at a different offset.
func runParallel(b *testing.B, order []uint64, touch func(uint64)) {
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1)*7919) % len(order)
		for pb.Next() {
			touch(order[i])
			if i++; i == len(order) {
				i = 0
			}
		}
	})
}

func BenchmarkMonitorRefreshParallel(b *testing.B) {
	m := newBenchMonitor(b, benchConns)
	runParallel(b, benchOrder(benchConns), func(k uint64) { m.Touch(k) })
}

func BenchmarkTimerRefreshParallel(b *testing.B) {
	s := newTimerSet(benchConns, time.Hour)
	defer s.stop()
	runParallel(b, benchOrder(benchConns), func(k uint64) { s.timers[k].Reset(time.Hour) })
}

func BenchmarkSeedQueueRefreshParallel(b *testing.B) {
	q := newSeedQueue()
	for k := range uint64(benchConns) {
		q.Track(k, nopConn)
	}
	runParallel(b, benchOrder(benchConns), func(k uint64) { q.Touch(k) })
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// benchMemory reports the heap growth per connection caused by build,
// which tracks memConns connections and returns a function releasing
// them.
func benchMemory(b *testing.B, build func(n int) (release func())) {
	var perConn float64
	for b.Loop() {
		before := heapAlloc()
		release := build(memConns)
		after := heapAlloc()
		perConn = float64(int64(after)-int64(before)) / memConns
		release()
	}
	b.ReportMetric(perConn, "B/conn")
}

func BenchmarkMonitorMemory(b *testing.B) {
	benchMemory(b, func(n int) func() {
		m, err := NewMonitor(MonitorConfig[uint64]{IdleTimeout: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		for k := range uint64(n) {
			_ = m.Track(k, nopConn)
		}
		return func() { m.Close() }
	})
}

func BenchmarkTimerMemory(b *testing.B) {
	benchMemory(b, func(n int) func() {
		s := newTimerSet(n, time.Hour)
		return s.stop
	})
}

func BenchmarkSeedQueueMemory(b *testing.B) {
	benchMemory(b, func(n int) func() {
		q := newSeedQueue()
		for k := range uint64(n) {
			q.Track(k, nopConn)
		}
		return func() { runtime.KeepAlive(q) }
	})
}

// BenchmarkMonitorExpiry measures the expiry work of one tick with
// 1,000,000 connections tracked, 1% of which expire per tick: one op is
// one tick, and ns/expired is the cost per evicted connection (including
// the no-op Close and OnEvict). Replacing the expired connections to keep
// the population steady is not timed.
func BenchmarkMonitorExpiry(b *testing.B) {
	const (
		total   = memConns
		cohorts = 100 // connections expire 100 ticks after their activity
		perTick = total / cohorts
	)
	var evicted int
	m, err := newMonitor(MonitorConfig[uint64]{
		IdleTimeout: (cohorts - 1) * time.Second, Tick: 2 * time.Second,
		OnEvict: func(uint64, io.Closer, Reason) { evicted++ },
	})
	if err != nil {
		b.Fatal(err)
	}
	// Epochs last one virtual second; a connection stamped with epoch e
	// expires when epoch e+cohorts starts.
	var vt time.Duration
	m.clock = func() time.Duration { return vt }
	var key uint64
	refill := func() {
		for range perTick {
			key++
			_ = m.Track(key, nopConn)
		}
	}
	for e := range cohorts {
		vt = time.Duration(e) * time.Second
		m.advance()
		refill()
	}
	b.ResetTimer()
	for b.Loop() {
		vt += time.Second
		m.advance()
		b.StopTimer()
		if m.Len() != total-perTick {
			b.Fatalf("tracked %d at epoch %d", m.Len(), m.cur)
		}
		refill()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(evicted), "ns/expired")
}
