//go:build linux

package keepalive

import (
	"crypto/tls"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/go-keepalive/keepalive/internal/tcpinfo"
	"github.com/go-keepalive/keepalive/keepalivetest"
)

// rawTCPInfo reads TCP_INFO the plain x/sys way, to compare with Inspect.
func rawTCPInfo(t testing.TB, conn *net.TCPConn) *unix.TCPInfo {
	t.Helper()
	info, err := tcpinfo.Get(conn)
	require.NoError(t, err)
	return info
}

// sendQueue reads SIOCOUTQ: bytes written and not yet acknowledged.
func sendQueue(t testing.TB, conn *net.TCPConn) int {
	t.Helper()
	rc, err := conn.SyscallConn()
	require.NoError(t, err)
	var n int
	var ioErr error
	require.NoError(t, rc.Control(func(fd uintptr) { n, ioErr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) }))
	require.NoError(t, ioErr)
	return n
}

const linuxMetrics = MetricState | MetricProbes | MetricRetransmits | MetricBackoff | MetricRTO |
	MetricUnackedBytes | MetricNotSentBytes | MetricSendWindow | MetricSinceReceived | MetricSinceSent | MetricRTT

func TestInspectMatchesTCPInfo(t *testing.T) {
	c, s := pair(t)
	_, err := s.Write([]byte("hello"))
	require.NoError(t, err)
	_, err = c.Read(make([]byte, 5))
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond)

	h, err := Inspect(c)
	require.NoError(t, err)
	raw := rawTCPInfo(t, c)
	assert.Equal(t, linuxMetrics, h.Known, "this kernel (6.x) reports every field")
	assert.Equal(t, StateEstablished, h.State)
	assert.Equal(t, "ESTABLISHED", h.State.String())
	assert.Equal(t, int(raw.Probes), h.Probes)
	assert.Equal(t, int(raw.Retransmits), h.Retransmits)
	assert.Equal(t, int(raw.Backoff), h.Backoff)
	assert.Equal(t, time.Duration(raw.Rto)*time.Microsecond, h.RTO)
	assert.Equal(t, time.Duration(raw.Rtt)*time.Microsecond, h.RTT)
	assert.Equal(t, int(raw.Snd_wnd), h.SendWindow)
	assert.Positive(t, h.SendWindow)
	assert.Zero(t, h.UnackedBytes)
	assert.Zero(t, h.NotSentBytes)
	// Both reads are a moment apart: the idle times may differ by a tick.
	since := time.Duration(min(raw.Last_data_recv, raw.Last_ack_recv)) * time.Millisecond
	assert.InDelta(t, since.Seconds(), h.SinceReceived.Seconds(), 0.02)
	assert.InDelta(t, (time.Duration(raw.Last_data_sent) * time.Millisecond).Seconds(), h.SinceSent.Seconds(), 0.02)
	assert.GreaterOrEqual(t, h.SinceReceived, 40*time.Millisecond)
	assert.Less(t, h.SinceReceived, 2*time.Second)
}

// UnackedBytes counts bytes, as SIOCOUTQ does, while the peer
// acknowledges nothing; NotSentBytes what waits behind a full window.
func TestInspectQueuedBytes(t *testing.T) {
	t.Parallel()
	if keepalivetest.RunIsolated(t) {
		return
	}
	c, s := keepalivetest.Pair(t)
	require.NoError(t, keepalivetest.Vanish(s))
	_, err := c.Write(make([]byte, 1000))
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond)
	h, err := Inspect(c)
	require.NoError(t, err)
	assert.True(t, h.Has(MetricUnackedBytes|MetricNotSentBytes))
	assert.Equal(t, 1000, h.UnackedBytes)
	assert.Equal(t, 1000, sendQueue(t, c))
	assert.Zero(t, h.NotSentBytes)
	assert.NotZero(t, rawTCPInfo(t, c).Unacked)
}

func TestInspectNotSent(t *testing.T) {
	c, s := pair(t)
	require.NoError(t, s.SetReadBuffer(4096))
	require.NoError(t, c.SetWriteBuffer(1<<20))
	// The peer reads nothing: its window closes and the rest waits.
	require.NoError(t, c.SetWriteDeadline(time.Now().Add(300*time.Millisecond)))
	for {
		if _, err := c.Write(make([]byte, 64<<10)); err != nil {
			break
		}
	}
	time.Sleep(50 * time.Millisecond)
	h, err := Inspect(c)
	require.NoError(t, err)
	raw := rawTCPInfo(t, c)
	assert.Zero(t, h.SendWindow, "the peer's window is full")
	assert.Positive(t, h.NotSentBytes)
	assert.Equal(t, int(raw.Notsent_bytes), h.NotSentBytes)
	assert.Equal(t, sendQueue(t, c)-h.NotSentBytes, h.UnackedBytes)
}

func TestInspectWhichConns(t *testing.T) {
	t.Run("tls.Conn", func(t *testing.T) {
		c, _ := pair(t)
		h, err := Inspect(tls.Client(c, &tls.Config{}))
		require.NoError(t, err)
		assert.Equal(t, StateEstablished, h.State)
		assert.Equal(t, linuxMetrics, h.Known)
	})
	t.Run("syscall.Conn over TCP", func(t *testing.T) {
		c, _ := pair(t)
		h, err := Inspect(syscallOnly{c, c})
		require.NoError(t, err)
		assert.Equal(t, StateEstablished, h.State)
	})
	t.Run("closed", func(t *testing.T) {
		c, _ := pair(t)
		require.NoError(t, c.Close())
		_, err := Inspect(c)
		assert.ErrorIs(t, err, net.ErrClosed)
		_, err = Inspect(netConnWrapper{c})
		assert.ErrorIs(t, err, net.ErrClosed)
	})
	t.Run("peer closed", func(t *testing.T) {
		c, s := pair(t)
		require.NoError(t, s.Close())
		time.Sleep(20 * time.Millisecond)
		h, err := Inspect(c)
		require.NoError(t, err)
		assert.Equal(t, StateCloseWait, h.State)
	})

	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer udp.Close()
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	c, _ := pair(t)
	for name, conn := range map[string]net.Conn{
		"UDP":                     udp.(*net.UDPConn),
		"UDP behind syscall.Conn": syscallOnly{udp.(*net.UDPConn), udp.(*net.UDPConn)},
		"net.Pipe":                p1,
		"nil":                     nil,
		"nil *net.TCPConn":        (*net.TCPConn)(nil),
		"nil *tls.Conn":           (*tls.Conn)(nil),
		"no socket":               nilSocket{c},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Inspect(conn)
			assert.ErrorIs(t, err, ErrNotTCP)
		})
	}
}

func TestInspectZeroAllocations(t *testing.T) {
	c, _ := pair(t)
	tc := tls.Client(c, &tls.Config{})
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = Inspect(c) }), "*net.TCPConn")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = Inspect(tc) }), "*tls.Conn")
}

// With data in flight Inspect makes its second system call; it still
// allocates nothing.
func TestInspectZeroAllocationsInFlight(t *testing.T) {
	if keepalivetest.RunIsolated(t) {
		return
	}
	c, s := keepalivetest.Pair(t)
	require.NoError(t, keepalivetest.Vanish(s))
	_, err := c.Write([]byte("unacknowledged"))
	require.NoError(t, err)
	tc := tls.Client(c, &tls.Config{})
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = Inspect(tc) }))
	h, err := Inspect(tc)
	require.NoError(t, err)
	assert.Equal(t, len("unacknowledged"), h.UnackedBytes)
}

func TestMetricsString(t *testing.T) {
	assert.Equal(t, "none", Metrics(0).String())
	assert.Equal(t, "State, RTT", (MetricState | MetricRTT).String())
	assert.Equal(t, "State, Probes, Retransmits, Backoff, RTO, UnackedBytes, NotSentBytes, SendWindow, SinceReceived, SinceSent, RTT", linuxMetrics.String())
}

func TestTCPStateString(t *testing.T) {
	assert.Equal(t, "CLOSE-WAIT", StateCloseWait.String())
	assert.Equal(t, "UNKNOWN", StateUnknown.String())
	assert.Equal(t, "TCPState(200)", TCPState(200).String())
	// Every Linux state a socket can be in maps to a known TCPState.
	for n := unix.BPF_TCP_ESTABLISHED; n <= unix.BPF_TCP_CLOSING; n++ {
		assert.NotEqual(t, StateUnknown, fromTable(linuxStates[:], uint32(n)), "Linux state %d", n)
	}
	assert.Equal(t, StateUnknown, fromTable(linuxStates[:], unix.BPF_TCP_NEW_SYN_RECV))
}

var _ syscall.Conn = syscallOnly{}

// ssInfo runs ss -tino for conn's connection and returns its fields
// ("rto" -> "204", "timer" -> "(keepalive,1.2sec,1)", ...).
func ssInfo(t *testing.T, conn *net.TCPConn) map[string]string {
	t.Helper()
	ss, err := exec.LookPath("ss")
	if err != nil {
		t.Skipf("no ss (iproute2) to compare with: %v", err)
	}
	local, remote := conn.LocalAddr().(*net.TCPAddr), conn.RemoteAddr().(*net.TCPAddr)
	out, err := exec.Command(ss, "-tinoH", "state", "all",
		"src", local.String(), "dst", remote.String()).CombinedOutput()
	require.NoError(t, err, "%s", out)
	fields := map[string]string{}
	for _, f := range strings.Fields(string(out)) {
		if k, v, ok := strings.Cut(f, ":"); ok && v != "" && !strings.Contains(k, ".") {
			fields[k] = v
		}
	}
	require.NotEmpty(t, fields["rto"], "ss found no such connection: %s", out)
	return fields
}

// inspectAroundSS inspects conn, runs ss, and inspects it again, so that
// what ss reports of times lies between the two. If a retransmission or a
// probe went out in between (running ss can take hundreds of milliseconds
// on a loaded machine), ss may have seen either side of it: it tries again,
// in the next interval of the backed-off timer, which is longer.
func inspectAroundSS(t *testing.T, conn *net.TCPConn) (before Health, ss map[string]string, after Health) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		var err error
		before, err = Inspect(conn)
		require.NoError(t, err)
		ss = ssInfo(t, conn)
		after, err = Inspect(conn)
		require.NoError(t, err)
		t.Logf("Inspect: %+v\nss: %v", before, ss)
		if before.Retransmits == after.Retransmits && before.Probes == after.Probes && after.SinceSent >= before.SinceSent {
			return before, ss, after
		}
		t.Logf("a segment went out while ss ran: %+v", after)
		require.Less(t, attempt, 3, "a segment went out while ss ran, %d times", attempt)
	}
}

// between asserts lo <= d <= hi, give or take a jiffy (10 ms at HZ=100).
func between(t *testing.T, d, lo, hi time.Duration, what string) {
	t.Helper()
	const tick = 10 * time.Millisecond
	assert.True(t, d >= lo-tick && d <= hi+tick, "ss %s %v, Inspect before %v and after %v", what, d, lo, hi)
}

// ssMillis parses one of ss's millisecond fields.
func ssMillis(t *testing.T, fields map[string]string, key string) time.Duration {
	t.Helper()
	v, _, _ := strings.Cut(fields[key], "/")
	ms, err := strconv.ParseFloat(v, 64)
	require.NoError(t, err, "ss %s:%s", key, fields[key])
	return time.Duration(ms * float64(time.Millisecond))
}

// Inspect reports what ss -tino shows, in the same units, on a connection
// whose data is being retransmitted and on one that is probing.
func TestInspectMatchesSS(t *testing.T) {
	t.Parallel()
	t.Run("retransmitting", func(t *testing.T) {
		if isolate(t) {
			return
		}
		c, s := keepalivetest.Pair(t)
		require.NoError(t, keepalivetest.Vanish(s))
		_, err := c.Write([]byte("unacknowledged"))
		require.NoError(t, err)
		// Between the second retransmission (about 0.8 s) and the third
		// (about 1.6 s): the first RTO is not always 200 ms (see
		// TestPredictRetransmissionsWithoutUserTimeout), so wait for it.
		// A little after it, so that ss has a lastsnd to show (it leaves
		// out a zero).
		waitForHealth(t, c, 3*time.Second, func(h Health) bool { return h.Retransmits >= 2 })
		time.Sleep(100 * time.Millisecond)
		h, ss, after := inspectAroundSS(t, c)
		assert.Equal(t, h.RTO, ssMillis(t, ss, "rto"))
		assert.Equal(t, ss["backoff"], strconv.Itoa(h.Backoff))
		// timer:(on,<left>,<retransmits>); ss's retrans: is segments
		// retransmitted and in flight, over all time.
		timer := strings.Split(strings.Trim(ss["timer"], "()"), ",")
		require.Len(t, timer, 3, "ss timer:%s", ss["timer"])
		assert.Equal(t, "on", timer[0])
		assert.Equal(t, timer[2], strconv.Itoa(h.Retransmits))
		assert.GreaterOrEqual(t, h.Retransmits, 2)
		assert.Equal(t, "1", ss["unacked"], "ss counts segments")
		assert.Equal(t, len("unacknowledged"), h.UnackedBytes, "Inspect counts bytes")
		assert.Equal(t, ss["snd_wnd"], strconv.Itoa(h.SendWindow))
		assert.InDelta(t, ssMillis(t, ss, "rtt").Seconds(), h.RTT.Seconds(), 0.001)
		between(t, ssMillis(t, ss, "lastsnd"), h.SinceSent, after.SinceSent, "lastsnd")
		between(t, min(ssMillis(t, ss, "lastrcv"), ssMillis(t, ss, "lastack")), h.SinceReceived, after.SinceReceived, "lastrcv, lastack")
	})
	t.Run("probing", func(t *testing.T) {
		if isolate(t) {
			return
		}
		c, s := keepalivetest.Pair(t)
		require.NoError(t, Config{Idle: time.Second, Interval: time.Second, Count: 5}.Apply(c))
		require.NoError(t, keepalivetest.Vanish(s))
		// Between the second probe (2 s) and the third (3 s).
		time.Sleep(2500 * time.Millisecond)
		h, ss, after := inspectAroundSS(t, c)
		// timer:(keepalive,<left>,<probes>)
		timer := strings.Split(strings.Trim(ss["timer"], "()"), ",")
		require.Len(t, timer, 3, "ss timer:%s", ss["timer"])
		assert.Equal(t, "keepalive", timer[0])
		assert.Equal(t, timer[2], strconv.Itoa(h.Probes))
		assert.GreaterOrEqual(t, h.Probes, 2)
		between(t, min(ssMillis(t, ss, "lastrcv"), ssMillis(t, ss, "lastack")), h.SinceReceived, after.SinceReceived, "lastrcv, lastack")
		assert.GreaterOrEqual(t, h.SinceReceived, 2500*time.Millisecond)
	})
}

// waitForHealth inspects conn every 10 ms until done says yes.
func waitForHealth(t *testing.T, conn *net.TCPConn, limit time.Duration, done func(Health) bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		h, err := Inspect(conn)
		require.NoError(t, err)
		if done(h) {
			return
		}
		require.True(t, time.Now().Before(deadline), "not within %v: %+v", limit, h)
		time.Sleep(10 * time.Millisecond)
	}
}
