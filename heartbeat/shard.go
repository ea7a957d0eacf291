package heartbeat

import (
	"io"
	"sync"
	"sync/atomic"
)

// A shard owns a fraction of the tracked keys. All fields except the
// entries' stamps are guarded by mu.
//
// Entries live in a slab of fixed-size chunks so that an *entry stays
// valid for the shard's lifetime (wrapped conns keep one). Active entries
// are linked, by index, into a list ordered by stamp (oldest first); free
// entries are chained through next. The key index is an open-addressing
// table of uint32 slots with linear probing and backward-shift deletion
// (no tombstones). A slot holds idx+1 in its low idxBits bits and 8 bits
// of the key's hash above them, so a probe rarely touches a
// non-matching entry.
type shard[K comparable] struct {
	mu     sync.Mutex
	slots  []uint32
	chunks []*[chunkSize]entry[K]
	used   int32 // entries ever handed out (high-water mark)
	free   int32 // head of the free list, or nilIdx
	head   int32 // least recently active entry, or nilIdx
	tail   int32 // most recently active entry, or nilIdx
	n      int32 // active entries
	_      [64]byte
}

// The fields a lookup reads (key, stamp) come first so that they rarely
// straddle two cache lines.
type entry[K comparable] struct {
	key   K
	stamp atomic.Uint32 // clock epoch of the last activity; written under mu
	hash  uint32        // low 32 bits of the key's hash
	conn  io.Closer     // nil while the entry is free
	prev  int32
	next  int32
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

func (sh *shard[K]) init() {
	sh.free, sh.head, sh.tail = nilIdx, nilIdx, nilIdx
}

func (sh *shard[K]) at(i int32) *entry[K] {
	return &sh.chunks[i>>chunkBits][i&chunkMask]
}

func slotTag(h uint64) uint32 { return uint32(uint8(h>>32)) << idxBits }

// find returns the slot position and entry index of key, or -1, nilIdx.
func (sh *shard[K]) find(key K, h uint64) (int, int32) {
	if sh.n == 0 {
		return -1, nilIdx
	}
	mask := len(sh.slots) - 1
	tag := slotTag(h)
	for p := int(uint32(h)) & mask; ; p = (p + 1) & mask {
		s := sh.slots[p]
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
	e := sh.at(i)
	e.conn, e.key, e.hash = c, key, uint32(h)
	e.stamp.Store(stamp)
	sh.pushBack(i, e)
	mask := len(sh.slots) - 1
	p := int(uint32(h)) & mask
	for sh.slots[p] != 0 {
		p = (p + 1) & mask
	}
	sh.slots[p] = slotTag(h) | uint32(i+1)
	sh.n++
	return i, e, nil
}

// remove unlinks the active entry i found at slot position p and frees it.
func (sh *shard[K]) remove(p int, i int32, e *entry[K]) {
	sh.deleteSlot(p)
	sh.unlink(i, e)
	var zero K
	e.conn, e.key = nil, zero
	e.prev, e.next = nilIdx, sh.free
	sh.free = i
	sh.n--
}

// slotOf returns the slot position of the active entry i.
func (sh *shard[K]) slotOf(i int32, e *entry[K]) int {
	mask := len(sh.slots) - 1
	for p := int(e.hash) & mask; ; p = (p + 1) & mask {
		if sh.slots[p]&idxMask == uint32(i+1) {
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
		return nilIdx, errShardFull
	}
	if int(sh.used) == len(sh.chunks)*chunkSize {
		sh.chunks = append(sh.chunks, new([chunkSize]entry[K]))
	}
	i := sh.used
	sh.used++
	return i, nil
}

func (sh *shard[K]) grow() {
	old := sh.slots
	sh.slots = make([]uint32, max(16, 2*len(old)))
	mask := len(sh.slots) - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		p := int(sh.at(int32(s&idxMask)-1).hash) & mask
		for sh.slots[p] != 0 {
			p = (p + 1) & mask
		}
		sh.slots[p] = s
	}
}

// deleteSlot empties slot p and shifts later members of its probe run
// back so that lookups never stop early.
func (sh *shard[K]) deleteSlot(p int) {
	mask := len(sh.slots) - 1
	sh.slots[p] = 0
	for j := (p + 1) & mask; ; j = (j + 1) & mask {
		s := sh.slots[j]
		if s == 0 {
			return
		}
		home := int(sh.at(int32(s&idxMask)-1).hash) & mask
		// The entry at j may move to p unless its home lies cyclically
		// in (p, j].
		var stay bool
		if p <= j {
			stay = p < home && home <= j
		} else {
			stay = p < home || home <= j
		}
		if !stay {
			sh.slots[p] = s
			sh.slots[j] = 0
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
	if e.stamp.Load() == now {
		return
	}
	e.stamp.Store(now)
	if sh.tail != i {
		sh.unlink(i, e)
		sh.pushBack(i, e)
	}
}
