package keepalive

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

// Windows 10 1703 and later answer SIO_TCP_INFO; Wine (8 and 10) answers
// WSAEOPNOTSUPP, which Inspect reports as ErrUnsupported.
func TestInspectWindows(t *testing.T) {
	c, _ := pair(t)
	h, err := Inspect(c)
	if underWine() {
		require.ErrorIs(t, err, ErrUnsupported)
		require.ErrorIs(t, err, errors.ErrUnsupported)
		assert.Contains(t, err.Error(), "SIO_TCP_INFO")
		assert.Zero(t, h.Known, "nothing reported")
		t.Logf("under Wine: %v", err)
		return
	}
	require.NoError(t, err)
	assert.Equal(t, StateEstablished, h.State)
	assert.Equal(t, MetricState|MetricUnackedBytes|MetricSendWindow|MetricRTT, h.Known)
	assert.Positive(t, h.SendWindow)
}

// wrapped exposes the connection below it through NetConn, as *tls.Conn
// does.
type wrapped struct{ net.Conn }

func (w wrapped) NetConn() net.Conn { return w.Conn }

func TestInspectWindowsConns(t *testing.T) {
	c, _ := pair(t)
	_, err := Inspect(wrapped{c})
	if underWine() {
		assert.ErrorIs(t, err, ErrUnsupported)
	} else {
		assert.NoError(t, err)
	}
	for name, conn := range map[string]net.Conn{
		"nil":              nil,
		"nil *net.TCPConn": (*net.TCPConn)(nil),
		"net.Pipe":         func() net.Conn { p, q := net.Pipe(); t.Cleanup(func() { p.Close(); q.Close() }); return p }(),
	} {
		_, err := Inspect(conn)
		assert.ErrorIs(t, err, ErrNotTCP, name)
	}
	require.NoError(t, c.Close())
	_, err = Inspect(c)
	assert.ErrorIs(t, err, net.ErrClosed)
}

// Windows reports neither probe counts nor idle times: no prediction, and
// Diagnose goes by Winsock's errors.
func TestPredictAndDiagnoseWindows(t *testing.T) {
	c, _ := pair(t)
	h, _ := Inspect(c)
	p := h.Predict(State{Enabled: true})
	assert.False(t, p.Known)
	assert.Contains(t, p.String(), "cannot predict: ")

	var nothing Health
	op := func(errno windows.Errno) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("wsarecv", errno)}
	}
	assert.Equal(t, CauseReset, nothing.Diagnose(op(windows.WSAECONNRESET)))
	assert.Equal(t, CauseUnreachable, nothing.Diagnose(op(windows.WSAEHOSTUNREACH)))
	assert.Equal(t, CauseUnknown, nothing.Diagnose(op(windows.WSAETIMEDOUT)), "timed out, but on what?")
	assert.Equal(t, CauseKeepalive, nothing.Diagnose(op(windows.WSAENETRESET)), "Winsock's keepalive failure")
	assert.Equal(t, CauseClosed, nothing.Diagnose(io.EOF))
	dropped := Health{State: StateClosed, UnackedBytes: 10, SendWindow: 1000, Known: MetricState | MetricUnackedBytes | MetricSendWindow}
	assert.Equal(t, CauseUnacked, dropped.Diagnose(op(windows.WSAETIMEDOUT)))
}
