//go:build !js

package keepalivews_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/keepalivews"
)

func TestWithin(t *testing.T) {
	b, err := keepalivews.Within(30 * time.Second)
	require.NoError(t, err)
	require.NoError(t, b.Validate())
	tcp, err := keepalive.Within(30 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, keepalivews.Budget{Within: 30 * time.Second, TCP: tcp, PingInterval: 15 * time.Second, PingTimeout: 15 * time.Second}, b)

	_, err = keepalivews.Within(0)
	assert.ErrorIs(t, err, keepalive.ErrOutOfRange)
}

// A Budget adjusted past its budget is refused by every method.
func TestOverBudget(t *testing.T) {
	b, err := keepalivews.Within(30 * time.Second)
	require.NoError(t, err)
	for name, adjust := range map[string]func(*keepalivews.Budget){
		"zero":              func(b *keepalivews.Budget) { *b = keepalivews.Budget{} },
		"pings over budget": func(b *keepalivews.Budget) { b.PingInterval = 20 * time.Second },
		"no ping timeout":   func(b *keepalivews.Budget) { b.PingTimeout = 0 },
		"kernel over":       func(b *keepalivews.Budget) { b.TCP.Idle = time.Hour },
	} {
		x := b
		adjust(&x)
		assert.ErrorIs(t, x.Validate(), keepalive.ErrOutOfRange, name)
		opts, err := x.DialOptions(nil)
		assert.Nil(t, opts, name)
		assert.Error(t, err, name)
		ln, err := x.Listen(t.Context(), "tcp", "127.0.0.1:0")
		assert.Nil(t, ln, name)
		assert.Error(t, err, name)
		assert.ErrorIs(t, x.Ping(t.Context(), nil), keepalive.ErrOutOfRange, name)
	}
}

type roundTripper struct{}

func (roundTripper) RoundTrip(*http.Request) (*http.Response, error) { return nil, nil }

func TestDialOptions(t *testing.T) {
	b, err := keepalivews.Within(30 * time.Second)
	require.NoError(t, err)
	jarless := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConns: 3}}
	base := &websocket.DialOptions{Subprotocols: []string{"chat"}, HTTPClient: jarless}
	opts, err := b.DialOptions(base)
	require.NoError(t, err)
	assert.Equal(t, []string{"chat"}, opts.Subprotocols)
	assert.Equal(t, time.Minute, opts.HTTPClient.Timeout)
	tr := opts.HTTPClient.Transport.(*http.Transport)
	assert.Equal(t, 3, tr.MaxIdleConns, "base's Transport, cloned")
	assert.NotNil(t, tr.DialContext)
	assert.Same(t, jarless, base.HTTPClient, "base is left alone")
	assert.Nil(t, jarless.Transport.(*http.Transport).DialContext)

	_, err = b.DialOptions(&websocket.DialOptions{HTTPClient: &http.Client{Transport: roundTripper{}}})
	assert.ErrorContains(t, err, "not an *http.Transport")
}

// Ping goes on while pongs come back, and returns ctx's error when ctx
// ends.
func TestPingUntilDone(t *testing.T) {
	b, err := keepalivews.Within(30 * time.Second)
	require.NoError(t, err)
	b.PingInterval, b.PingTimeout = 10*time.Millisecond, 5*time.Second
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		<-c.CloseRead(r.Context()).Done()
	}))
	defer srv.Close()
	c, _, err := websocket.Dial(t.Context(), srv.URL, nil)
	require.NoError(t, err)
	defer c.CloseNow()
	c.CloseRead(t.Context()) // reads the pongs
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, b.Ping(ctx, c), context.DeadlineExceeded)
}
