//go:build linux

package keepalive

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive/keepalivetest"
)

// stall makes server stop reading and client write until its writes block:
// the peer's window is zero and data waits to be sent. The writer keeps
// blocking in the background; its error arrives on the channel, with when
// it failed since start.
func stall(t *testing.T, client, server *net.TCPConn, start time.Time) <-chan failure {
	t.Helper()
	require.NoError(t, keepalivetest.StopReading(server))
	failed := make(chan failure, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := client.Write(buf); err != nil {
				failed <- failure{time.Since(start), err}
				return
			}
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h, err := Inspect(client)
		require.NoError(t, err)
		if h.SendWindow == 0 && h.NotSentBytes > 0 {
			return failed
		}
		require.True(t, time.Now().Before(deadline), "the window did not close: %+v", h)
		time.Sleep(10 * time.Millisecond)
	}
}

type failure struct {
	at  time.Duration
	err error
}

// Scenario: the peer is up but stops reading. With a UserTimeout the
// writer fails although the peer's kernel answers every probe: the user
// timeout counts from the last progress, so it drops slow consumers too.
// The error goes to one call only; a Read waiting at the same time gets
// io.EOF (golang/go#31490, still so on Linux 6.18), and both are
// diagnosed as a zero window.
func TestZeroWindowPeerStopsReading(t *testing.T) {
	t.Parallel()
	t.Run("with UserTimeout", func(t *testing.T) {
		if isolate(t) {
			return
		}
		client, server := keepalivetest.Pair(t)
		cfg := Config{Idle: time.Second, Interval: time.Second, Count: 2, UserTimeout: 2 * time.Second}
		require.NoError(t, cfg.Apply(client))
		s := mustGet(t, client)
		wakes := watchWakeups(t)
		start := time.Now()
		wrote := stall(t, client, server, start)
		read := make(chan failure, 1)
		go func() {
			_, err := client.Read(make([]byte, 1))
			read <- failure{time.Since(start), err}
		}()

		var samples []sample
		var w failure
	wait:
		for {
			select {
			case w = <-wrote:
				break wait
			case <-time.After(250 * time.Millisecond):
				h, err := Inspect(client)
				require.NoError(t, err)
				require.NotEqual(t, StateClosed, h.State)
				assert.Zero(t, h.Probes, "the peer answers every probe")
				at := time.Since(start)
				p := h.Predict(s)
				samples = append(samples, sample{at, h, p, at + p.In})
			case <-time.After(10 * time.Second):
				t.Fatal("the writer did not fail")
			}
		}
		r := <-read
		t.Log(record("zero window, peer up, user_timeout=2s", w.at, cfg.UserTimeout))
		assertRatio(t, w.at, cfg.UserTimeout, 1.0, 1.25)
		// Exactly one call gets ETIMEDOUT; the other sees the connection
		// already gone.
		timedOut := errors.Is(w.err, syscall.ETIMEDOUT)
		assert.NotEqual(t, timedOut, errors.Is(r.err, syscall.ETIMEDOUT), "write: %v, read: %v", w.err, r.err)
		if timedOut {
			assert.ErrorIs(t, r.err, io.EOF)
		} else {
			assert.ErrorIs(t, w.err, syscall.EPIPE)
		}
		assert.NotEqual(t, IsDeadPeer(w.err), IsDeadPeer(r.err), "IsDeadPeer holds for the one that got the kernel's error")

		h, err := Inspect(client)
		require.NoError(t, err)
		assert.Equal(t, StateClosed, h.State)
		assert.Zero(t, h.SendWindow)
		assert.Positive(t, h.NotSentBytes)
		assert.Equal(t, CauseZeroWindow, h.Diagnose(w.err))
		assert.Equal(t, CauseZeroWindow, h.Diagnose(r.err), "io.EOF on a CLOSED socket is not a normal close")
		checkPredictions(t, samples, w.at, wakes.lateBefore(start.Add(w.at)), 250*time.Millisecond, cfg.UserTimeout, CauseZeroWindow)
	})
	t.Run("without UserTimeout", func(t *testing.T) {
		if isolate(t) {
			return
		}
		client, server := keepalivetest.Pair(t)
		cfg := Config{Idle: time.Second, Interval: time.Second, Count: 2}
		require.NoError(t, cfg.Apply(client))
		s := mustGet(t, client)
		wrote := stall(t, client, server, time.Now())
		select {
		case w := <-wrote:
			t.Fatalf("the writer failed after %v although the peer is alive: %v", w.at, w.err)
		case <-time.After(4 * time.Second):
		}
		h, err := Inspect(client)
		require.NoError(t, err)
		assert.Equal(t, StateEstablished, h.State, "the peer is alive: the connection lives on")
		assert.Zero(t, h.Probes, "every probe answered")
		assert.Less(t, h.SinceReceived, 4*time.Second, "the peer answers")
		p := h.Predict(s)
		require.True(t, p.Known, "%v", p)
		assert.Equal(t, CauseZeroWindow, p.By)
		t.Logf("if the peer went silent now: %v", p)
		// Only if the peer went silent: twice the maximum RTO after its
		// last answer.
		assert.Greater(t, p.In, 3*time.Minute)
	})
}

// Scenario: the peer vanishes while the window is zero (black-holed during
// a stall). With a UserTimeout it is detected within 1.25 times it; without
// one the kernel waits for twice the maximum RTO of silence (4 minutes),
// predicted here rather than waited for.
func TestZeroWindowPeerVanishes(t *testing.T) {
	t.Parallel()
	t.Run("with UserTimeout", func(t *testing.T) {
		if isolate(t) {
			return
		}
		client, server := keepalivetest.Pair(t)
		cfg := Config{Idle: time.Second, Interval: time.Second, Count: 2, UserTimeout: 2 * time.Second}
		require.NoError(t, cfg.Apply(client))
		wrote := stall(t, client, server, time.Now())
		require.NoError(t, keepalivetest.Vanish(server))
		vanished := time.Now()
		var w failure
		select {
		case w = <-wrote:
		case <-time.After(10 * time.Second):
			t.Fatal("the writer did not fail")
		}
		took := time.Since(vanished)
		require.ErrorIs(t, w.err, syscall.ETIMEDOUT)
		t.Log(record("zero window, peer vanished, user_timeout=2s", took, cfg.UserTimeout))
		assertRatio(t, took, cfg.UserTimeout, 0.5, 1.25)
		assert.Equal(t, CauseZeroWindow, Diagnose(client, w.err))
	})
	t.Run("without UserTimeout", func(t *testing.T) {
		if isolate(t) {
			return
		}
		client, server := keepalivetest.Pair(t)
		cfg := Config{Idle: time.Second, Interval: time.Second, Count: 2}
		require.NoError(t, cfg.Apply(client))
		s := mustGet(t, client)
		wrote := stall(t, client, server, time.Now())
		require.NoError(t, keepalivetest.Vanish(server))
		select {
		case w := <-wrote:
			t.Fatalf("the writer failed after %v: %v", w.at, w.err)
		case <-time.After(3 * time.Second):
		}
		h, err := Inspect(client)
		require.NoError(t, err)
		assert.Equal(t, StateEstablished, h.State, "keepalive sends no probes while data waits")
		assert.Zero(t, h.Probes)
		p := h.Predict(s)
		require.True(t, p.Known, "%v", p)
		assert.Equal(t, CauseZeroWindow, p.By)
		t.Logf("3s after the vanish: %v", p)
		// The first backed-off retransmission timer after both the first
		// retransmission and the last segment received are 2*rto_max ago.
		k := nativeTimers()
		assert.GreaterOrEqual(t, p.In, 2*k.rtoMax-h.SinceReceived)
		assert.LessOrEqual(t, p.In, 3*k.rtoMax-h.SinceReceived)
	})
}

// Scenario: the peer stops reading without shrinking its buffer, so the
// window closes with all data acknowledged: the persist timer's
// zero-window probes, not retransmissions. With a UserTimeout the writer
// fails all the same, where and when Predict says.
func TestZeroWindowPersistTimer(t *testing.T) {
	t.Parallel()
	client, _ := pair(t)
	cfg := Config{Idle: time.Second, Interval: time.Second, Count: 2, UserTimeout: 2 * time.Second}
	require.NoError(t, cfg.Apply(client))
	s := mustGet(t, client)
	wakes := watchWakeups(t)
	start := time.Now()
	wrote := make(chan failure, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := client.Write(buf); err != nil {
				wrote <- failure{time.Since(start), err}
				return
			}
		}
	}()
	var samples []sample
	var w failure
wait:
	for {
		select {
		case w = <-wrote:
			break wait
		case <-time.After(250 * time.Millisecond):
			h, err := Inspect(client)
			require.NoError(t, err)
			at := time.Since(start)
			p := h.Predict(s)
			samples = append(samples, sample{at, h, p, at + p.In})
		case <-time.After(10 * time.Second):
			t.Fatal("the writer did not fail")
		}
	}
	require.ErrorIs(t, w.err, syscall.ETIMEDOUT)
	t.Log(record("zero window, persist timer, user_timeout=2s", w.at, cfg.UserTimeout))
	assertRatio(t, w.at, cfg.UserTimeout, 1.0, 1.5)
	stalled := 0
	for _, s := range samples {
		if s.h.SendWindow == 0 && s.h.UnackedBytes == 0 {
			stalled++
		}
	}
	assert.Positive(t, stalled, "no sample saw the window closed with everything acknowledged")
	// From the first probe timer on (one RTO into the stall, which itself
	// begins when the buffers are full, a few hundred milliseconds in).
	checkPredictions(t, samples, w.at, wakes.lateBefore(start.Add(w.at)), time.Second, cfg.UserTimeout, CauseZeroWindow)
}
