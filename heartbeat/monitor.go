package heartbeat

import (
	"hash/maphash"
	"io"
	"log"
	"math"
	"math/bits"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"
)

// Reason tells why a connection stopped being tracked.
type Reason uint8

const (
	// TimedOut: nothing was received for longer than the timeout. The
	// Monitor has closed the connection (after the grace period, if any).
	TimedOut Reason = iota + 1
	// Replaced: the key was tracked again with another connection. The
	// Monitor has closed the old connection.
	Replaced
	// Removed: Remove, the wrapper's Close or Monitor.Close ended the
	// tracking. The Monitor has not closed the connection.
	Removed
)

// String returns "timed out", "replaced" or "removed", and
// "Reason(n)" for any other value.
func (r Reason) String() string {
	switch r {
	case TimedOut:
		return "timed out"
	case Replaced:
		return "replaced"
	case Removed:
		return "removed"
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// MinTick is the finest Tick a Monitor accepts, and hence the smallest
// IdleTimeout.
const MinTick = time.Millisecond

const maxShards = 4096

// MonitorConfig configures a Monitor. Only IdleTimeout is required.
type MonitorConfig[K comparable] struct {
	// IdleTimeout is how long a connection may go without activity (Track,
	// Touch or a read through the TrackConn wrapper) before it is evicted.
	// At least MinTick, at most math.MaxInt64/4 nanoseconds (about 73
	// years).
	IdleTimeout time.Duration

	// Tick is the precision of expiry. A connection last active at time
	// t is evicted after t+IdleTimeout, never earlier, and no later than
	// t+IdleTimeout+Tick unless the Monitor's goroutine, which wakes every
	// Tick/2, is held up by the scheduler. Zero means IdleTimeout/8 (but at
	// least MinTick). Must be in [MinTick, IdleTimeout], and such that
	// IdleTimeout/Tick, rounded down, is at most 10000 (Tick greater than
	// IdleTimeout/10001).
	//
	// Activity is stamped with a coarse clock, an epoch number that the
	// Monitor's goroutine advances, instead of the time; that is what
	// keeps Touch cheap. If the goroutine is delayed, the current epoch
	// simply lasts longer and its connections are evicted later.
	Tick time.Duration

	// Grace, if positive, turns a timeout into a two-step close for
	// connections that have a CloseWrite() error method (such as
	// *net.TCPConn, *net.UnixConn, and the wrapper returned by
	// TrackConn, whose CloseWrite fails if the connection it wraps has
	// none, as a net.Pipe end has not): CloseWrite
	// is called at once, which sends FIN so a peer that is merely slow
	// learns that it is being dropped, data still in flight from the peer
	// can be read for Grace, and then Close is called. During the grace
	// period the key is no longer tracked: Touch (which reports false) and
	// reads do not revive the connection, and the key may be tracked
	// again by a new connection, which the pending close leaves alone.
	// Tracking the half-closed connection itself again (Track or
	// TrackConn, under its key, of it or of its TrackConn wrapper) is
	// refused with ErrHalfClosed, and it is still closed when Grace ends,
	// with one OnEvict (TimedOut). Connections without CloseWrite, or
	// whose CloseWrite fails, are closed at once. Replaced connections are always closed
	// at once. At most math.MaxInt64/4 nanoseconds.
	Grace time.Duration

	// Shards is the number of independently locked partitions of the key
	// space, rounded up to a power of two. Zero picks 32×GOMAXPROCS,
	// clamped to [64, 1024]: with few shards, cores refreshing at once keep
	// taking the same locks' cache lines from each other (measured: 64
	// shards refresh 20% faster than 8 from two cores). At most 4096.
	Shards int

	// OnEvict, if set, is called exactly once for every connection that
	// was successfully tracked, when the Monitor is done with it:
	// after closing it for TimedOut (after the grace period) and
	// Replaced, and after untracking it for Removed. It runs without any
	// Monitor lock held, so it may call any method of the Monitor,
	// Close included (see Close). For TimedOut, and for Removed by
	// Close, it runs on the Monitor's goroutine and delays other
	// expiries while it runs; otherwise it runs on the goroutine that
	// called Track, TrackConn, Remove or the wrapper's Close. It may run
	// concurrently with itself.
	OnEvict func(key K, c io.Closer, reason Reason)

	// OnPanic, if set, is called with every panic the Monitor recovers:
	// see "Panics" in the Monitor's documentation. If it is nil, each is
	// logged with the log package's standard logger, stack included, as
	// net/http does with a handler's panic. A panic in OnPanic itself is
	// logged and dropped.
	OnPanic func(key K, c io.Closer, err *PanicError)
}

// A Monitor evicts connections that have been idle for longer than a
// timeout. It is built for servers holding up to millions of long-lived
// connections: there is no goroutine or timer per connection, refreshing
// is O(1) and allocation-free, and expiring costs O(number expired).
//
// Keys are spread over shards by hash/maphash with a per-Monitor seed.
// Each shard keeps its connections in a list ordered by last activity,
// linked by index through a slab of entries and indexed by a compact
// open-addressing table (about 60 bytes per connection in all, for
// 8-byte keys). The Monitor's single goroutine inspects only the head of
// each list, every Tick/2.
//
// Tracking a key that is already tracked evicts the old connection at
// once (Replaced): a client that reconnects before its old connection
// timed out does not leave the stale one behind.
//
// Evicted connections are closed on the goroutine that evicts them: the
// Monitor's own for timeouts (also those whose grace period Close cuts
// short), the caller's for replacements. Their Close and CloseWrite
// methods should not block. Those of *net.TCPConn do not, but those of
// *tls.Conn may wait up to 5 seconds sending close_notify to an
// unresponsive peer, holding up other expiries meanwhile; give such
// connections a short write deadline before closing, e.g. in a wrapper.
//
// # Panics
//
// A panic in a connection's Close or CloseWrite method, or in OnEvict,
// when the Monitor calls them (to expire, replace, remove or drain a
// connection), does not escape: one bad connection must not take the
// server down, nor stop expiry for the others. The Monitor recovers it,
// reports it to OnPanic, and goes on as if the call had returned: a
// CloseWrite that panicked counts as failed, so the connection is closed
// at once; a Close that panicked counts as done, and OnEvict is still
// called, once. The Monitor's own state is never left half-changed, as
// it calls none of them with a lock held. (A panic in c.Close when the
// caller closes the wrapper returned by TrackConn is the caller's own call,
// and propagates to the caller.)
//
// A Monitor is safe for concurrent use. The zero Monitor is closed
// (Track and TrackConn return ErrClosed): use NewMonitor.
type Monitor[K comparable] struct {
	now   atomic.Uint32 // coarse clock: the current epoch
	seed  maphash.Seed
	shift uint8 // shard = hash >> shift
	// plain: built by newMonitor, with a key type whose values all equal
	// themselves, so that Touch, Track and Remove need check neither.
	plain   bool
	res     time.Duration
	timeout time.Duration
	grace   time.Duration
	onEvict func(K, io.Closer, Reason)
	onPanic func(K, io.Closer, *PanicError)
	shards  []shard[K]
	clock   func() time.Duration // time since the Monitor started

	closed  atomic.Bool
	stop    chan struct{} // closed by Close; nil without a goroutine
	done    chan struct{} // closed once Close's work is done
	drainer atomic.Uint64 // the goroutine that runs expiry and draining

	// Owned by the goroutine running expiry. Epochs are numbered
	// consecutively; epoch e began at starts[e&ringMask]. Activity stamped
	// with epoch e happened before epoch e+1 began, so it is at least
	// IdleTimeout old once starts[e+1] <= now-IdleTimeout, however irregularly
	// the epochs were started.
	starts   []time.Duration
	ringMask uint32
	cur      uint32 // the current epoch, as published in now
	cutoff   uint32 // entries stamped at or before cutoff have expired
	victims  []victim[K]
	graceQ   []graced[K]
	graceHd  int
}

type graced[K comparable] struct {
	victim[K]
	due time.Duration
}

// batch bounds how many entries are evicted per lock hold.
const batch = 256

// NewMonitor validates cfg and starts a Monitor. Call Close to stop it.
func NewMonitor[K comparable](cfg MonitorConfig[K]) (*Monitor[K], error) {
	m, err := newMonitor(cfg)
	if err != nil {
		return nil, err
	}
	m.stop = make(chan struct{})
	go m.run()
	return m, nil
}

// newMonitor builds a Monitor without starting its goroutine; tests and
// benchmarks drive it with advance.
func newMonitor[K comparable](cfg MonitorConfig[K]) (*Monitor[K], error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	tick := cfg.tick()
	// Waking every Tick/2 bounds eviction to IdleTimeout+Tick: activity is
	// only known to precede the start of the next epoch (up to Tick/2
	// later), and the check runs every Tick/2.
	res := tick / 2
	// Epochs last at least res/2, so the ring must cover about
	// 2*IdleTimeout/res of them plus a few.
	ring := 1 << bits.Len(uint(2*ceilDiv(cfg.IdleTimeout, res)+8))
	shards := cfg.Shards
	if shards == 0 {
		shards = min(max(32*runtime.GOMAXPROCS(0), 64), 1024)
	}
	shards = 1 << bits.Len(uint(shards-1))
	m := &Monitor[K]{
		seed:     maphash.MakeSeed(),
		shift:    uint8(64 - bits.TrailingZeros(uint(shards))),
		res:      res,
		timeout:  cfg.IdleTimeout,
		grace:    cfg.Grace,
		onEvict:  cfg.OnEvict,
		onPanic:  cfg.OnPanic,
		shards:   make([]shard[K], shards),
		starts:   make([]time.Duration, ring),
		ringMask: uint32(ring - 1),
		cutoff:   ^uint32(0), // epoch -1: nothing has expired
		done:     make(chan struct{}),
		plain:    !mayBeIrreflexive(reflect.TypeFor[K]()),
	}
	start := time.Now()
	m.clock = func() time.Duration { return time.Since(start) }
	for i := range m.shards {
		m.shards[i].init(&m.now)
	}
	return m, nil
}

func ceilDiv(a, b time.Duration) time.Duration { return (a + b - 1) / b }

func (cfg *MonitorConfig[K]) tick() time.Duration {
	if cfg.Tick != 0 {
		return cfg.Tick
	}
	return max(cfg.IdleTimeout/8, MinTick)
}

const (
	// maxDuration bounds IdleTimeout and Grace so that sums of them cannot
	// overflow.
	maxDuration = math.MaxInt64 / 4
	// maxTicks bounds IdleTimeout/Tick, which sizes a ring buffer.
	maxTicks = 10000
)

func (cfg *MonitorConfig[K]) validate() error {
	var errs []error
	switch {
	case cfg.IdleTimeout < MinTick:
		errs = append(errs, configErr("IdleTimeout", "must be at least %v, got %v", MinTick, cfg.IdleTimeout))
	case cfg.IdleTimeout > maxDuration:
		errs = append(errs, configErr("IdleTimeout", "must be at most %v, got %v", time.Duration(maxDuration), cfg.IdleTimeout))
	}
	switch {
	case cfg.Tick < 0:
		errs = append(errs, configErr("Tick", "must not be negative, got %v", cfg.Tick))
	case cfg.Tick > 0 && cfg.Tick < MinTick:
		errs = append(errs, configErr("Tick", "must be zero or at least %v, got %v", MinTick, cfg.Tick))
	case cfg.Tick > cfg.IdleTimeout && cfg.IdleTimeout >= MinTick:
		errs = append(errs, configErr("Tick", "must not exceed IdleTimeout (%v), got %v", cfg.IdleTimeout, cfg.Tick))
	}
	switch {
	case cfg.Grace < 0:
		errs = append(errs, configErr("Grace", "must not be negative, got %v", cfg.Grace))
	case cfg.Grace > maxDuration:
		errs = append(errs, configErr("Grace", "must be at most %v, got %v", time.Duration(maxDuration), cfg.Grace))
	}
	if cfg.Shards < 0 || cfg.Shards > maxShards {
		errs = append(errs, configErr("Shards", "must be in [0, %d], got %d", maxShards, cfg.Shards))
	}
	if len(errs) == 0 && cfg.IdleTimeout/cfg.tick() > maxTicks {
		errs = append(errs, configErr("Tick", "must be at least %v (IdleTimeout/Tick at most %d), got %v",
			cfg.IdleTimeout/(maxTicks+1)+1, maxTicks, cfg.tick()))
	}
	return joinErrs(errs)
}

// mayBeIrreflexive reports whether a value of type t may be unequal to
// itself (a NaN) or panic when compared (an interface holding a value
// that is not comparable).
func mayBeIrreflexive(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.Interface:
		return true
	case reflect.Array:
		return t.Len() > 0 && mayBeIrreflexive(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if mayBeIrreflexive(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// usable reports whether m was built by newMonitor (is not the zero
// Monitor) and key is equal to itself, so that it can be hashed and
// found again (see ErrInvalidKey).
func (m *Monitor[K]) usable(key K) bool {
	if m.plain {
		return true
	}
	// A nil interface is a fine key, though its reflect.Value is not
	// Comparable.
	k := any(key)
	return len(m.shards) > 0 && (k == nil || reflect.ValueOf(k).Comparable() && key == key)
}

func (m *Monitor[K]) shardOf(h uint64) *shard[K] {
	return &m.shards[h>>m.shift]
}

// Track starts monitoring c under key; the connection counts as active
// now. If key is already tracked with a different connection, that one
// is closed and evicted with reason Replaced before Track returns.
// Tracking the same connection again only refreshes it. Connections
// are compared with ==, a wrapper returned by TrackConn counting as the
// connection it wraps: Track(key, c) where key is tracked with
// TrackConn's wrapper of c only refreshes the wrapper, which stays the
// one tracked. If c's dynamic type is not comparable, the same value
// tracked twice is treated as a replacement.
//
// Track returns ErrClosed after Close (and on the zero Monitor),
// ErrNilConn if c is nil or holds a nil pointer, map, slice, channel or
// function (a typed nil, such as a nil *net.TCPConn), ErrInvalidKey
// for a key that is not equal to itself, ErrFull if the key's shard
// cannot index one more connection, and ErrHalfClosed if c timed out
// under key and is in its grace period (see MonitorConfig.Grace), and
// ErrStaleWrapper if c is a wrapper returned by TrackConn that is not
// tracked under key (see ErrStaleWrapper); in
// each case nothing is tracked or refreshed (a connection tracked under
// key stays, untouched), Track does not close c and calls no OnEvict.
// (A connection refused with ErrHalfClosed is still closed when its
// grace period ends, with OnEvict then, once.)
func (m *Monitor[K]) Track(key K, c io.Closer) error {
	_, err := m.track(key, c, nil)
	return err
}

// track implements Track and TrackConn: it tracks c under key unless
// the same connection is already tracked under key, and returns the one
// tracked. If at is not nil, c is a new wrapper made by TrackConn: it
// takes the place of the same connection tracked unwrapped, and at
// receives its position when it is tracked.
func (m *Monitor[K]) track(key K, c io.Closer, at *position[K]) (io.Closer, error) {
	switch {
	case len(m.shards) == 0: // the zero Monitor
		return nil, ErrClosed
	case isNil(c):
		return nil, ErrNilConn
	case !m.usable(key):
		return nil, ErrInvalidKey
	}
	h := maphash.Comparable(m.seed, key)
	matchOld := func(old io.Closer) match {
		if !m.sameConn(old, c) {
			return replace
		}
		if w, wrapped := old.(*monitoredConn[K]); at == nil || wrapped && w.m == m {
			return keep
		}
		return adopt
	}
	// Track of m's own wrapper can only refresh it: its position, which
	// its reads and Close act on, is fixed when TrackConn makes it.
	w, wrapper := c.(*monitoredConn[K])
	refreshOnly := at == nil && wrapper && w.m == m
	kept, old, err := m.shardOf(h).track(key, h, c, at, refreshOnly, &m.closed, matchOld)
	if err != nil {
		return nil, err
	}
	if kept != nil {
		return kept, nil
	}
	if old.c != nil {
		m.close(old.key, old.c)
		m.notify(old.key, old.c, Replaced)
	}
	return c, nil
}

// isNil reports whether c is nil or holds a nil pointer, map, slice,
// channel or function: a value on which Close would fail or panic.
func isNil(c any) bool {
	if c == nil {
		return true
	}
	switch v := reflect.ValueOf(c); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return v.IsNil()
	}
	return false
}

// Touch records activity on key and reports whether key is tracked. It
// does not allocate. If the key's activity is already recorded in the
// current clock epoch (by Track, Touch or a read through the TrackConn
// wrapper), Touch only checks that, without locking or writing anything,
// so busy connections refreshed from many goroutines do not contend.
// Otherwise it takes the key's shard lock and moves the key to the tail
// of the shard's list.
//
// That lock-free check identifies the key by its 64-bit hash (seeded
// per Monitor), not by ==. If two distinct keys had the same hash, which
// happens with probability about 2^-64 per pair, Touch of one while the
// other is fresh would do nothing and report true: an untracked key
// would look tracked, and a tracked one would not be refreshed.
//
// Touch of a key that is not equal to itself (see ErrInvalidKey), or on
// the zero Monitor, reports false.
func (m *Monitor[K]) Touch(key K) bool {
	if !m.usable(key) {
		return false
	}
	h := maphash.Comparable(m.seed, key)
	return m.shardOf(h).touch(key, h)
}

// Remove stops tracking key if it is tracked with connection c (compared
// with ==, a wrapper returned by TrackConn counting as the connection it
// wraps, as in Track), calls OnEvict with reason Removed, and reports
// whether it did. It does not close c. Call it when a connection ends
// normally. (The wrapper returned by TrackConn does this in its Close.)
// A c whose dynamic type is not comparable never matches.
//
// Passing c guards against a classic race: when a client reconnects, the
// handler of its old connection typically calls Remove while exiting,
// after the new connection has already been tracked under the same key.
// Remove then leaves the new connection alone.
func (m *Monitor[K]) Remove(key K, c io.Closer) bool {
	if isNil(c) || !m.usable(key) {
		return false
	}
	h := maphash.Comparable(m.seed, key)
	v, ok := m.shardOf(h).untrack(key, h, func(tracked io.Closer) bool { return m.sameConn(tracked, c) })
	if ok {
		m.notify(v.key, v.c, Removed)
	}
	return ok
}

// Len returns the number of tracked connections, not counting timed-out
// ones still in their grace period.
func (m *Monitor[K]) Len() int {
	n := 0
	for i := range m.shards {
		n += m.shards[i].count()
	}
	return n
}

// Close stops the Monitor: from then on Track and TrackConn return
// ErrClosed. The Monitor's goroutine finishes the expiry it is doing,
// closes connections that are in their grace period (OnEvict with
// TimedOut), untracks all others without closing them (OnEvict with
// Removed) and exits. Close waits for that, also when called again or
// concurrently, and always returns nil.
//
// Close may be called from OnEvict, OnPanic or a connection's Close
// method. Called from one that runs on the Monitor's goroutine (during
// expiry or the draining above), it cannot wait for its own goroutine:
// it returns at once, and the Monitor finishes closing when that
// callback returns.
func (m *Monitor[K]) Close() error {
	if m.closed.CompareAndSwap(false, true) {
		if m.stop == nil {
			// No goroutine (the zero Monitor, or one that tests drive
			// with advance): drain here.
			m.drainer.Store(goid())
			m.drain()
			if m.done != nil {
				close(m.done)
			}
			return nil
		}
		close(m.stop)
	}
	if m.done != nil && m.drainer.Load() != goid() {
		<-m.done
	}
	return nil
}

// drain ends the tracking of everything after Close: nothing is stamped
// after the current epoch, and nothing can be tracked any more.
func (m *Monitor[K]) drain() {
	for i := range m.shards {
		m.evict(&m.shards[i], m.now.Load(), Removed)
	}
	for m.graceHd < len(m.graceQ) {
		g := m.graceQ[m.graceHd]
		m.graceHd++
		m.closeTimedOut(g.victim)
	}
	m.graceQ, m.graceHd = nil, 0
}

// goid returns the calling goroutine's id, read from the header of its
// stack trace ("goroutine 18 [running]:"). Close compares it with the
// drainer's to tell a call from a callback the Monitor is running, which
// must not wait for itself, from any other call, which must wait.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = b[len("goroutine "):]
	var id uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// evict ends the tracking of sh's entries stamped at or before cutoff,
// a batch per lock hold: for TimedOut it closes them (after the grace
// period, if any), for Removed it only reports them.
func (m *Monitor[K]) evict(sh *shard[K], cutoff uint32, r Reason) {
	for {
		vs := sh.popStamped(m.victims[:0], batch, cutoff, r == TimedOut && m.grace > 0)
		for _, v := range vs {
			if r == TimedOut {
				m.timedOut(v)
			} else {
				m.notify(v.key, v.c, r)
			}
		}
		clear(vs)
		m.victims = vs[:0]
		if len(vs) < batch {
			return
		}
	}
}

// notify calls OnEvict, recovering a panic.
func (m *Monitor[K]) notify(key K, c io.Closer, r Reason) {
	if m.onEvict != nil {
		defer m.recoverPanic(key, c, "OnEvict")
		m.onEvict(key, c, r)
	}
}

// close closes an evicted connection, recovering a panic.
func (m *Monitor[K]) close(key K, c io.Closer) {
	defer m.recoverPanic(key, c, "Close")
	c.Close()
}

// closeWrite half-closes a connection that timed out and reports
// whether that worked; a panic counts as failure.
func (m *Monitor[K]) closeWrite(key K, c io.Closer, cw closeWriter) (ok bool) {
	defer m.recoverPanic(key, c, "CloseWrite")
	return cw.CloseWrite() == nil
}

// recoverPanic, deferred, recovers a panic in the call named op on c and
// reports it.
func (m *Monitor[K]) recoverPanic(key K, c io.Closer, op string) {
	v := recover()
	if v == nil {
		return
	}
	err := &PanicError{Op: op, Value: v, Stack: debug.Stack()}
	if m.onPanic == nil {
		logPanic(key, c, err)
		return
	}
	defer func() {
		if v := recover(); v != nil {
			logPanic(key, c, &PanicError{Op: "OnPanic", Value: v, Stack: debug.Stack()})
		}
	}()
	m.onPanic(key, c, err)
}

func logPanic(key any, c io.Closer, err *PanicError) {
	log.Printf("%v (key %v, connection %T)\n%s", err, key, c, err.Stack)
}

func (m *Monitor[K]) run() {
	m.drainer.Store(goid())
	defer close(m.done)
	t := time.NewTicker(m.res)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			m.drain()
			return
		case <-t.C:
			m.advance()
		}
	}
}

// advance starts a new epoch if the current one is old enough, then
// evicts what has expired. Only one goroutine may call it at a time.
func (m *Monitor[K]) advance() {
	now := m.clock()
	if now-m.starts[m.cur&m.ringMask] >= m.res/2 && m.cur-m.cutoff < m.ringMask {
		m.cur++
		m.now.Store(m.cur)
		// Read the time after publishing the epoch: everything stamped
		// with the previous epoch happened before this.
		now = m.clock()
		m.starts[m.cur&m.ringMask] = now
	}
	for m.cutoff+1 != m.cur && m.starts[(m.cutoff+2)&m.ringMask] <= now-m.timeout {
		m.cutoff++
	}
	for i := range m.shards {
		m.evict(&m.shards[i], m.cutoff, TimedOut)
	}
	m.closeGraced(now)
}

type closeWriter interface{ CloseWrite() error }

// timedOut half-closes a connection that popStamped put in its grace
// period and queues it for closing when Grace ends; it closes any other
// timed-out connection at once, as it does one whose CloseWrite fails.
func (m *Monitor[K]) timedOut(v victim[K]) {
	if v.mark != 0 && m.closeWrite(v.key, v.c, v.c.(closeWriter)) {
		if m.graceHd == len(m.graceQ) {
			m.graceQ, m.graceHd = m.graceQ[:0], 0
		}
		m.graceQ = append(m.graceQ, graced[K]{v, m.clock() + m.grace})
		return
	}
	m.closeTimedOut(v)
}

// closeTimedOut closes a timed-out connection, ends its grace period if
// it had one, and then calls OnEvict: the only place where the
// Monitor's tracking of a timed-out connection ends, so OnEvict runs
// once for it whichever way it got here.
func (m *Monitor[K]) closeTimedOut(v victim[K]) {
	m.close(v.key, v.c)
	if v.mark != 0 {
		// Only now may the connection be tracked again: it is closed.
		m.shardOf(v.h).endGrace(v)
	}
	m.notify(v.key, v.c, TimedOut)
}

func (m *Monitor[K]) closeGraced(now time.Duration) {
	for m.graceHd < len(m.graceQ) {
		g := &m.graceQ[m.graceHd]
		if g.due > now {
			break
		}
		v := g.victim
		*g = graced[K]{}
		m.graceHd++
		m.closeTimedOut(v)
	}
	// Reclaim the consumed prefix once it dominates the slice.
	if m.graceHd > 64 && m.graceHd*2 > len(m.graceQ) {
		n := copy(m.graceQ, m.graceQ[m.graceHd:])
		clear(m.graceQ[n:])
		m.graceQ, m.graceHd = m.graceQ[:n], 0
	}
}
