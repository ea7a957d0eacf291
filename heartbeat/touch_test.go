package heartbeat

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// touchAsync runs Touch(key) on another goroutine; the result arrives on
// the returned channel.
func touchAsync[K comparable](m *Monitor[K], key K) <-chan bool {
	ch := make(chan bool, 1)
	go func() { ch <- m.Touch(key) }()
	return ch
}

// touchWaits checks that the Touch running behind done does not finish
// while the test holds sh's lock, then releases the lock and returns
// Touch's result.
func touchWaits[K comparable](t *testing.T, sh *shard[K], done <-chan bool) bool {
	t.Helper()
	select {
	case ok := <-done:
		t.Error("Touch finished without the lock")
		sh.mu.Unlock()
		return ok
	case <-time.After(50 * time.Millisecond):
	}
	sh.mu.Unlock()
	return <-done
}

// TestTouchLockFree checks which Touches take the shard lock: only those
// that have something to change. The test holds the key's shard lock and
// watches whether Touch can finish.
func TestTouchLockFree(t *testing.T) {
	noLeaks(t)
	m := manual(t, MonitorConfig[string]{})
	require.NoError(t, m.Track("a", &fakeConn{}))
	sh := m.shardOf(hashOf(m, "a"))

	// Tracked in the current epoch: nothing to do, so no lock.
	sh.mu.Lock()
	select {
	case ok := <-touchAsync(m, "a"):
		assert.True(t, ok)
	case <-time.After(10 * time.Second):
		sh.mu.Unlock()
		t.Fatal("Touch of a key already fresh in this epoch waited for the lock")
	}
	sh.mu.Unlock()

	// In a new epoch the entry must move to the tail: that needs the lock.
	m.tick(1)
	sh.mu.Lock()
	assert.True(t, touchWaits(t, sh, touchAsync(m, "a")),
		"Touch of a key stamped in an older epoch must wait for the lock")
	_, i := sh.find("a", hashOf(m, "a"))
	require.NotEqual(t, nilIdx, i)
	assert.Equal(t, uint32(1), sh.meta(i).stamp.Load())
	assert.Equal(t, i, sh.tail)

	// Once removed, the key's old entry must not answer for it.
	require.True(t, m.Remove("a", sh.at(i).conn))
	sh.mu.Lock()
	assert.False(t, touchWaits(t, sh, touchAsync(m, "a")),
		"Touch of a removed key must wait for the lock")
}

// TestTouchUnderChurn races Touch against Track and Remove of other keys
// in the same shard (moving slots, growing the table and reusing entries)
// and against the clock. Each owner goroutine knows exactly which of its
// keys are tracked and checks that Touch agrees, and that a key Touch
// reports as tracked is stamped no earlier than the epoch in which Touch
// began: the promise that keeps it from being evicted early.
func TestTouchUnderChurn(t *testing.T) {
	noLeaks(t)
	m := manual(t, MonitorConfig[uint64]{Shards: 1})
	sh := &m.shards[0]
	stampOf := func(k uint64) (uint32, bool) {
		sh.mu.Lock()
		defer sh.mu.Unlock()
		_, i := sh.find(k, hashOf(m, k))
		if i == nilIdx {
			return 0, false
		}
		return sh.meta(i).stamp.Load(), true
	}

	var stop atomic.Bool
	var churn sync.WaitGroup
	churn.Go(func() {
		// New epochs as often as possible. Only the clock moves: with
		// nothing expiring, each owner knows what is tracked.
		for !stop.Load() {
			m.now.Add(1)
			runtime.Gosched()
		}
	})
	for w := range 2 { // other keys coming and going
		churn.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 9))
			base := uint64(1_000_000 * (w + 1))
			c := &fakeConn{}
			for !stop.Load() {
				k := base + r.Uint64N(2000)
				if !m.Remove(k, c) {
					_ = m.Track(k, c)
				}
			}
		})
	}

	var owners sync.WaitGroup
	for w := range 4 {
		owners.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			tracked := map[uint64]bool{}
			c := &fakeConn{}
			for range 20000 {
				k := uint64(w)*100 + r.Uint64N(100)
				switch r.UintN(4) {
				case 0:
					if tracked[k] {
						assert.True(t, m.Remove(k, c))
					} else {
						assert.NoError(t, m.Track(k, c))
					}
					tracked[k] = !tracked[k]
				default:
					began := m.now.Load()
					got := m.Touch(k)
					if got != tracked[k] {
						t.Errorf("Touch(%d) = %v, tracked %v", k, got, tracked[k])
						return
					}
					if stamp, ok := stampOf(k); got && (!ok || int32(stamp-began) < 0) {
						t.Errorf("Touch(%d) began in epoch %d, key stamped %d (tracked %v)", k, began, stamp, ok)
						return
					}
				}
			}
		})
	}
	owners.Wait()
	stop.Store(true)
	churn.Wait()
	assert.Greater(t, m.now.Load(), uint32(100), "the clock should have advanced during the test")
}
