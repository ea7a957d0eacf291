package heartbeat

import (
	"io"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
)

// A shard owns a fraction of the tracked keys. Everything in it is
// guarded by mu, except that Touch's fast path (fresh) reads the slot
// table, the chunk directory and the entries' hash and stamp without the
// lock; those are therefore only written atomically, and a grown table or
// directory is published as a new slice rather than modified in place
// where a reader could see it.
//
// Entries live in a slab of fixed-size chunks so that an *entry stays
// valid for the shard's lifetime (wrapped conns keep one). Active entries
// are linked, by index, into a list ordered by stamp (oldest first); free
// entries are chained through next. The key index is an open-addressing
// table of uint32 slots with linear probing and backward-shift deletion
// (no tombstones). A slot holds idx+1 in its low idxBits bits and 8 bits
// of the key's hash above them, so a probe rarely touches a
// non-matching entry.
//
// Connections that timed out and are in their grace period are no
// longer in the index; the shard remembers them by key in inGrace, from
// the lock hold that unlinks them (popStamped) until the Monitor has
// closed them (endGrace), so that track can refuse them (ErrHalfClosed)
// without a window in which the pending close could hit a connection
// that is tracked again.
//
// Every lock of a shard is taken here: the Monitor and the wrapper call
// the locked operations below (track, touch, untrack, count, popStamped,
// endGrace and a position's refresh and remove), which never call out to
// other code with the lock held.
type shard[K comparable] struct {
	// What fresh reads without the lock.
	view atomic.Pointer[view[K]]
	// The Monitor's coarse clock: its current epoch. Read-only pointer.
	clock *atomic.Uint32
	// Keep view off the cache line that locking and refreshing write to,
	// so that lock-free readers on other cores do not lose it each time.
	_ [64 - 16]byte

	mu     sync.Mutex
	slots  []atomic.Uint32 // as published in view
	chunks []*chunk[K]     // as published in view
	used   int32           // entries ever handed out (high-water mark)
	free   int32           // head of the free list, or nilIdx
	head   int32           // least recently active entry, or nilIdx
	tail   int32           // most recently active entry, or nilIdx
	n      int32           // active entries
	// Timed-out connections in their grace period, by key (usually one
	// per key), each with the mark that popStamped gave it; nil when
	// there are none.
	inGrace  map[K][]graceMark
	lastMark uint64
	// Rarely written, inGrace and lastMark take the first 16 bytes of
	// what was 64 bytes of padding: the hot fields keep their layout.
	_ [48]byte
}

// A graceMark is a connection in its grace period; mark tells it apart
// from others under the same key without comparing connections (which
// may not be comparable).
type graceMark struct {
	c    io.Closer
	mark uint64
}

// A view publishes a shard's slot table and chunk directory to fresh. It
// is replaced whenever either is, never modified.
type view[K comparable] struct {
	slots  []atomic.Uint32
	chunks []*chunk[K]
}

func (sh *shard[K]) publish() {
	sh.view.Store(&view[K]{sh.slots, sh.chunks})
}

// A chunk holds chunkSize entries. What fresh reads of an entry, its
// meta, is kept apart in a dense array, so that a lookup pulls 16 bytes
// per entry into the cache rather than a whole entry.
type chunk[K comparable] struct {
	meta    [chunkSize]meta
	entries [chunkSize]entry[K]
}

type entry[K comparable] struct {
	key  K
	conn io.Closer // nil while the entry is free
	prev int32
	next int32
}

// A meta's hash is the key's full hash while its entry is active and 0
// while it is free (a key whose hash is 0 is just one more collision, of
// the kind fresh already tolerates); its stamp only grows while the
// entry stays active. fresh relies on both, and on insert storing the
// stamp before the hash.
type meta struct {
	hash  atomic.Uint64
	stamp atomic.Uint32 // clock epoch of the last activity
}

const (
	chunkBits = 8
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1

	idxBits    = 24
	idxMask    = 1<<idxBits - 1
	maxEntries = idxMask // idx+1 must fit in idxBits

	nilIdx int32 = -1
)

func (sh *shard[K]) init(clock *atomic.Uint32) {
	sh.clock = clock
	sh.free, sh.head, sh.tail = nilIdx, nilIdx, nilIdx
}

// A victim is a connection whose tracking has ended, with its key. A
// victim that popStamped put in its grace period has the key's hash h
// and a nonzero mark, which endGrace takes.
type victim[K comparable] struct {
	key  K
	c    io.Closer
	h    uint64
	mark uint64
}

// same reports whether a == b, treating values whose dynamic type is
// not comparable (or that hold something that is not) as different.
// Pointers, the usual connections, are compared without reflect.ValueOf,
// which would make a and b escape: tracking again allocates nothing.
func same(a, b io.Closer) bool {
	t := reflect.TypeOf(a)
	switch {
	case t != reflect.TypeOf(b):
		return false
	case t == nil:
		return true
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Chan, reflect.UnsafePointer:
		return a == b
	}
	return reflect.ValueOf(a).Comparable() && a == b
}

// A match says what tracking c under a key already tracked with old
// means.
type match uint8

const (
	replace match = iota // another connection: c replaces old, which is evicted
	keep                 // the same connection: old is refreshed and stays
	adopt                // the same connection: c silently takes old's place
)

// track tracks c under key, whose hash is h, as active now, unless
// closed is set (ErrClosed). If key is already tracked with a connection
// old, its entry is refreshed and matchOld(old) decides: for keep, old
// is returned as kept; for adopt, c takes old's place and is returned
// as kept; for replace, c takes old's place and old is returned as
// replaced. If c is, by matchOld, a connection that timed out under key
// and is in its grace period, nothing changes and track returns
// ErrHalfClosed. If refreshOnly is set, c (a wrapper whose position
// cannot change) may only be kept: instead of an insertion or a
// replacement, nothing changes and track returns ErrStaleWrapper. If at
// is not nil, it receives the position of c's entry, under the lock,
// before anyone else can reach c through the shard.
func (sh *shard[K]) track(key K, h uint64, c io.Closer, at *position[K], refreshOnly bool, closed *atomic.Bool,
	matchOld func(old io.Closer) match) (kept io.Closer, replaced victim[K], err error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if closed.Load() {
		return nil, victim[K]{}, ErrClosed
	}
	// Read the clock under the lock: fresh relies on an entry activated
	// after it read the clock being stamped no earlier.
	now := sh.clock.Load()
	_, i := sh.find(key, h)
	if i == nilIdx {
		switch {
		case sh.halfClosed(key, matchOld):
			return nil, victim[K]{}, ErrHalfClosed
		case refreshOnly:
			return nil, victim[K]{}, ErrStaleWrapper
		}
		i, e, err := sh.insert(key, h, c, now)
		if err == nil && at != nil {
			*at = position[K]{sh, e, sh.meta(i), i}
		}
		return nil, victim[K]{}, err
	}
	e := sh.at(i)
	// Only a connection other than the tracked one can be in its grace
	// period (track refused it since), so refreshing never looks there.
	how := matchOld(e.conn)
	switch {
	case how == replace && sh.halfClosed(key, matchOld):
		return nil, victim[K]{}, ErrHalfClosed
	case how != keep && refreshOnly:
		return nil, victim[K]{}, ErrStaleWrapper
	}
	sh.refresh(i, e, now)
	switch how {
	case keep:
		return e.conn, victim[K]{}, nil
	case adopt:
		kept = c
	default:
		replaced = victim[K]{key: e.key, c: e.conn}
	}
	e.key, e.conn = key, c
	if at != nil {
		*at = position[K]{sh, e, sh.meta(i), i}
	}
	return kept, replaced, nil
}

// touch records activity on key, whose hash is h, and reports whether
// it is tracked. The lock is taken only if the key is not already fresh.
func (sh *shard[K]) touch(key K, h uint64) bool {
	if sh.fresh(h, sh.clock.Load()) {
		return true
	}
	sh.mu.Lock()
	_, i := sh.find(key, h)
	if i != nilIdx {
		sh.refresh(i, sh.at(i), sh.clock.Load())
	}
	sh.mu.Unlock()
	return i != nilIdx
}

// untrack ends the tracking of key, whose hash is h, if it is tracked
// with a connection that is(tracked) accepts, and returns it.
func (sh *shard[K]) untrack(key K, h uint64, is func(tracked io.Closer) bool) (victim[K], bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p, i := sh.find(key, h)
	if i == nilIdx {
		return victim[K]{}, false
	}
	e := sh.at(i)
	if !is(e.conn) {
		return victim[K]{}, false
	}
	v := victim[K]{key: e.key, c: e.conn}
	sh.remove(p, i, e)
	return v, true
}

// halfClosed reports whether a connection that timed out under key and
// is in its grace period is, by matchOld, the one being tracked.
func (sh *shard[K]) halfClosed(key K, matchOld func(old io.Closer) match) bool {
	if len(sh.inGrace) == 0 {
		return false
	}
	for _, g := range sh.inGrace[key] {
		if matchOld(g.c) != replace {
			return true
		}
	}
	return false
}

// endGrace forgets v, which popStamped put in its grace period, once the
// Monitor has closed it.
func (sh *shard[K]) endGrace(v victim[K]) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	gs := sh.inGrace[v.key]
	j := slices.IndexFunc(gs, func(g graceMark) bool { return g.mark == v.mark })
	if j < 0 {
		return
	}
	gs = slices.Delete(gs, j, j+1)
	switch {
	case len(gs) > 0:
		sh.inGrace[v.key] = gs
	case len(sh.inGrace) == 1:
		sh.inGrace = nil // a map never shrinks: let a mass timeout's go
	default:
		delete(sh.inGrace, v.key)
	}
}

// count returns the number of tracked keys.
func (sh *shard[K]) count() int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return int(sh.n)
}

// popStamped ends the tracking of up to n entries stamped at or before
// cutoff, the least recently active first, and appends them to vs.
// Expiry passes the newest expired epoch; draining passes the current
// one, which nothing is stamped after. If grace is set, each connection
// that has a CloseWrite method enters its grace period in the same lock
// hold: its victim gets a mark, and the Monitor must call endGrace with
// it once it has closed the connection.
func (sh *shard[K]) popStamped(vs []victim[K], n int, cutoff uint32, grace bool) []victim[K] {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for range n {
		i := sh.head
		if i == nilIdx || int32(cutoff-sh.meta(i).stamp.Load()) < 0 {
			break
		}
		e := sh.at(i)
		v := victim[K]{key: e.key, c: e.conn, h: sh.meta(i).hash.Load()}
		if _, ok := e.conn.(closeWriter); ok && grace {
			sh.lastMark++
			v.mark = sh.lastMark
			if sh.inGrace == nil {
				sh.inGrace = make(map[K][]graceMark)
			}
			sh.inGrace[e.key] = append(sh.inGrace[e.key], graceMark{e.conn, v.mark})
		}
		vs = append(vs, v)
		sh.remove(sh.slotOf(i), i, e)
	}
	return vs
}

// A position locates an entry for its owner, the wrapper returned by
// Monitor.TrackConn, which refreshes and removes its entry without a
// lookup. It stays valid for the shard's lifetime; whether the entry is
// still the owner's is checked under the lock.
type position[K comparable] struct {
	sh *shard[K]
	e  *entry[K]
	mt *meta // e's
	i  int32
}

// fresh reports, without the lock, whether the entry is stamped with the
// current epoch. Racing with a new owner of the entry is fine: then it
// is no longer the caller's, and there is nothing to do either way.
func (p *position[K]) fresh() bool {
	return p.mt.stamp.Load() == p.sh.clock.Load()
}

// refresh records activity on the entry if it still tracks owner.
func (p *position[K]) refresh(owner io.Closer) {
	sh := p.sh
	sh.mu.Lock()
	if p.e.conn == owner {
		sh.refresh(p.i, p.e, sh.clock.Load())
	}
	sh.mu.Unlock()
}

// remove ends the entry's tracking if it still tracks owner, and returns
// its key.
func (p *position[K]) remove(owner io.Closer) (key K, ok bool) {
	sh := p.sh
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if p.e.conn != owner {
		return key, false
	}
	key = p.e.key
	sh.remove(sh.slotOf(p.i), p.i, p.e)
	return key, true
}

func (sh *shard[K]) at(i int32) *entry[K] {
	return &sh.chunks[i>>chunkBits].entries[i&chunkMask]
}

func (sh *shard[K]) meta(i int32) *meta {
	return &sh.chunks[i>>chunkBits].meta[i&chunkMask]
}

func slotTag(h uint64) uint32 { return uint32(uint8(h>>32)) << idxBits }

func home(h uint64, mask int) int { return int(uint32(h)) & mask }

// fresh reports, without the lock, whether the key with hash h is
// tracked and already stamped with epoch now, so that a Touch has
// nothing to do. A false result decides nothing: writers may be moving
// the key's slot, so the caller must take the locked path.
//
// Keys are matched by their 64-bit hash alone, since reading a key
// while a writer may change it would be a data race. When fresh returns
// true, some entry of the shard was active with hash h and stamped with
// now (or later) at the time it read the hash: the stamp, read before the
// hash, only grows while an entry stays active, and an entry activated
// in between was stamped no earlier than now (writers read the clock
// under the lock, after fresh's caller did).
func (sh *shard[K]) fresh(h uint64, now uint32) bool {
	v := sh.view.Load()
	if v == nil {
		return false
	}
	slots, dir := v.slots, v.chunks
	mask := len(slots) - 1
	tag := slotTag(h)
	p := home(h, mask)
	// The bound only guarantees an end while writers change the table.
	for range len(slots) {
		s := slots[p].Load()
		if s == 0 {
			return false
		}
		if s&^idxMask == tag {
			i := int(s&idxMask) - 1
			if i>>chunkBits >= len(dir) {
				return false
			}
			mt := &dir[i>>chunkBits].meta[i&chunkMask]
			stamp := mt.stamp.Load()
			if mt.hash.Load() == h {
				return stamp == now
			}
		}
		p = (p + 1) & mask
	}
	return false
}

// find returns the slot position and entry index of key, or -1, nilIdx.
func (sh *shard[K]) find(key K, h uint64) (int, int32) {
	if sh.n == 0 {
		return -1, nilIdx
	}
	mask := len(sh.slots) - 1
	tag := slotTag(h)
	for p := home(h, mask); ; p = (p + 1) & mask {
		s := sh.slots[p].Load()
		if s == 0 {
			return -1, nilIdx
		}
		if s&^idxMask == tag {
			i := int32(s&idxMask) - 1
			if sh.at(i).key == key {
				return p, i
			}
		}
	}
}

// insert adds a fresh active entry for key, which must not be present,
// and links it at the tail with the given stamp.
func (sh *shard[K]) insert(key K, h uint64, c io.Closer, stamp uint32) (int32, *entry[K], error) {
	if int(sh.n+1)*4 > len(sh.slots)*3 {
		sh.grow()
	}
	i, err := sh.alloc()
	if err != nil {
		return nilIdx, nil, err
	}
	e, mt := sh.at(i), sh.meta(i)
	e.conn, e.key = c, key
	mt.stamp.Store(stamp)
	mt.hash.Store(h)
	sh.pushBack(i, e)
	mask := len(sh.slots) - 1
	p := home(h, mask)
	for sh.slots[p].Load() != 0 {
		p = (p + 1) & mask
	}
	sh.slots[p].Store(slotTag(h) | uint32(i+1))
	sh.n++
	return i, e, nil
}

// remove unlinks the active entry i found at slot position p and frees it.
func (sh *shard[K]) remove(p int, i int32, e *entry[K]) {
	sh.deleteSlot(p)
	sh.unlink(i, e)
	var zero K
	sh.meta(i).hash.Store(0)
	e.conn, e.key = nil, zero
	e.prev, e.next = nilIdx, sh.free
	sh.free = i
	sh.n--
}

// slotOf returns the slot position of the active entry i.
func (sh *shard[K]) slotOf(i int32) int {
	mask := len(sh.slots) - 1
	for p := home(sh.meta(i).hash.Load(), mask); ; p = (p + 1) & mask {
		if sh.slots[p].Load()&idxMask == uint32(i+1) {
			return p
		}
	}
}

func (sh *shard[K]) alloc() (int32, error) {
	if i := sh.free; i != nilIdx {
		sh.free = sh.at(i).next
		return i, nil
	}
	if sh.used >= maxEntries {
		return nilIdx, ErrFull
	}
	if int(sh.used) == len(sh.chunks)*chunkSize {
		// Readers of the published directory never index past its
		// length, so append may fill in the shared array's spare room.
		sh.chunks = append(sh.chunks, new(chunk[K]))
		sh.publish()
	}
	i := sh.used
	sh.used++
	return i, nil
}

// grow moves the index into a table twice the size and publishes it.
func (sh *shard[K]) grow() {
	slots := make([]atomic.Uint32, max(16, 2*len(sh.slots)))
	mask := len(slots) - 1
	for k := range sh.slots {
		s := sh.slots[k].Load()
		if s == 0 {
			continue
		}
		p := home(sh.meta(int32(s&idxMask)-1).hash.Load(), mask)
		for slots[p].Load() != 0 {
			p = (p + 1) & mask
		}
		slots[p].Store(s)
	}
	sh.slots = slots
	sh.publish()
}

// deleteSlot empties slot p and shifts later members of its probe run
// back so that lookups under the lock never stop early. (fresh may miss
// an entry while it moves, and then falls back to the lock.)
func (sh *shard[K]) deleteSlot(p int) {
	mask := len(sh.slots) - 1
	sh.slots[p].Store(0)
	for j := (p + 1) & mask; ; j = (j + 1) & mask {
		s := sh.slots[j].Load()
		if s == 0 {
			return
		}
		h := home(sh.meta(int32(s&idxMask)-1).hash.Load(), mask)
		// The entry at j may move to p unless its home h lies
		// cyclically in (p, j].
		var stay bool
		if p <= j {
			stay = p < h && h <= j
		} else {
			stay = p < h || h <= j
		}
		if !stay {
			sh.slots[p].Store(s)
			sh.slots[j].Store(0)
			p = j
		}
	}
}

func (sh *shard[K]) pushBack(i int32, e *entry[K]) {
	e.prev, e.next = sh.tail, nilIdx
	if sh.tail != nilIdx {
		sh.at(sh.tail).next = i
	} else {
		sh.head = i
	}
	sh.tail = i
}

func (sh *shard[K]) unlink(i int32, e *entry[K]) {
	if e.prev != nilIdx {
		sh.at(e.prev).next = e.next
	} else {
		sh.head = e.next
	}
	if e.next != nilIdx {
		sh.at(e.next).prev = e.prev
	} else {
		sh.tail = e.prev
	}
}

// refresh records activity at epoch now. The list stays sorted by stamp
// and every entry stamped now already sits in the list's suffix of
// now-stamped entries, so an entry touched again within the same epoch
// needs no move.
func (sh *shard[K]) refresh(i int32, e *entry[K], now uint32) {
	mt := sh.meta(i)
	if mt.stamp.Load() == now {
		return
	}
	mt.stamp.Store(now)
	if sh.tail != i {
		sh.unlink(i, e)
		sh.pushBack(i, e)
	}
}
