package keepalivehttp_test

import (
	"crypto/tls"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/keepalivehttp"
)

func within(t *testing.T, d time.Duration) keepalivehttp.Budget {
	t.Helper()
	b, err := keepalivehttp.Within(d)
	require.NoError(t, err)
	return b
}

func TestWithin(t *testing.T) {
	b := within(t, 30*time.Second)
	require.NoError(t, b.Validate())
	tcp, err := keepalive.Within(30 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, keepalivehttp.Budget{Within: 30 * time.Second, TCP: tcp, PingAfter: 15 * time.Second, PingTimeout: 15 * time.Second}, b)

	_, err = keepalivehttp.Within(0)
	assert.ErrorIs(t, err, keepalive.ErrOutOfRange)
}

// A Budget adjusted past its budget, or never made by Within, is refused by
// every method, with nothing built.
func TestOverBudget(t *testing.T) {
	b := within(t, 30*time.Second)
	over := map[string]keepalivehttp.Budget{}
	x := b
	x.PingAfter = 16 * time.Second
	over["pings add up to 31s"] = x
	x = b
	x.PingTimeout = 0
	over["no ping timeout"] = x
	x = b
	x.TCP.Idle = time.Hour
	over["kernel bound past the budget"] = x
	x = b
	x.TCP.UserTimeout = time.Minute
	over["user timeout past the budget"] = x
	x = b
	x.TCP.Count = -1
	over["invalid Config"] = x
	over["zero Budget"] = keepalivehttp.Budget{}
	for name, x := range over {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, x.Validate(), keepalive.ErrOutOfRange)
			h2, err := x.HTTP2Config(nil)
			assert.Nil(t, h2)
			assert.Error(t, err)
			tr, err := x.Transport(nil)
			assert.Nil(t, tr)
			assert.Error(t, err)
			ln, err := x.Listen(t.Context(), "tcp", "127.0.0.1:0")
			assert.Nil(t, ln)
			assert.Error(t, err)
		})
	}
}

func TestHTTP2Config(t *testing.T) {
	b := within(t, 30*time.Second)
	base := &http.HTTP2Config{MaxConcurrentStreams: 7, SendPingTimeout: time.Hour}
	c, err := b.HTTP2Config(base)
	require.NoError(t, err)
	assert.Equal(t, &http.HTTP2Config{MaxConcurrentStreams: 7, SendPingTimeout: 15 * time.Second, PingTimeout: 15 * time.Second}, c)
	assert.Equal(t, time.Hour, base.SendPingTimeout, "base is left alone")
}

// The Transport speaks the protocols its base did: a custom dial func
// would otherwise turn HTTP/2 off.
func TestTransportProtocols(t *testing.T) {
	b := within(t, 30*time.Second)
	for _, tc := range []struct {
		name  string
		base  *http.Transport
		force bool
	}{
		{"nil: DefaultTransport", nil, true},
		{"zero Transport: HTTP/2 by default", &http.Transport{}, true},
		{"own TLS config: HTTP/2 off by default", &http.Transport{TLSClientConfig: &tls.Config{}}, false},
		{"own dialer: HTTP/2 off by default", &http.Transport{DialContext: (&net.Dialer{}).DialContext}, false},
		{"Protocols set: they decide", &http.Transport{Protocols: new(http.Protocols)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := b.Transport(tc.base)
			require.NoError(t, err)
			assert.Equal(t, tc.force, tr.ForceAttemptHTTP2)
			assert.Equal(t, 15*time.Second, tr.HTTP2.SendPingTimeout)
			assert.Equal(t, 15*time.Second, tr.HTTP2.PingTimeout)
		})
	}
}
