package keepalive

import (
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	assert.Equal(t, MetricState|MetricUnacked|MetricSendWindow|MetricRTT, h.Known)
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
