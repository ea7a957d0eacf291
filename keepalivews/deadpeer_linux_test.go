package keepalivews_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/internal/layertest"
	"github.com/go-keepalive/keepalive/keepalivews"
)

func TestMain(m *testing.M) { layertest.Main(m) }

// budget is short so that the tests stay quick, and long enough for
// keepalive.Within on Linux (2 s at least) to spread three probes.
const budget = 4 * time.Second

// slack is how far past the budget a detection may land: the kernel's
// timers fire a few milliseconds late, and so do Go's under load.
const slack = 1.15

// measure runs a WebSocket connection between a client dialing with opts
// and a server on ln, both pinging with b if ping, partitions it, and
// returns when each end noticed: the client's Read fails, the server's
// CloseRead context ends. pinged is what the client's Ping returned.
func measure(t *testing.T, b keepalivews.Budget, opts *websocket.DialOptions, ln net.Listener, ping bool) (client, server layertest.Detected, pinged error) {
	t.Helper()
	clientConns, serverConns := layertest.NewConns(), layertest.NewConns()
	tr := opts.HTTPClient.Transport.(*http.Transport)
	tr.DialContext = clientConns.Dial(tr.DialContext)
	ended := make(chan layertest.Event, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := c.CloseRead(context.Background())
		if ping {
			go func() { _ = b.Ping(ctx, c) }()
		}
		<-ctx.Done()
		layertest.Notice(ended, context.Cause(ctx))
	})}
	go func() { _ = srv.Serve(serverConns.Listener(ln)) }()
	t.Cleanup(func() { _ = srv.Close() })

	c, _, err := websocket.Dial(t.Context(), "ws://"+ln.Addr().String()+"/", opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	read := make(chan layertest.Event, 1)
	go func() {
		_, _, err := c.Read(context.Background())
		layertest.Notice(read, err)
	}()
	pingDone := make(chan error, 1)
	if ping {
		go func() { pingDone <- b.Ping(context.Background(), c) }()
	}
	clientEnd, serverEnd := clientConns.Next(t), serverConns.Next(t)
	cut := layertest.Partition(t, clientEnd, serverEnd)
	client, server = cut.Wait(t, "client", clientEnd, read, 2*budget), cut.Wait(t, "server", serverEnd, ended, 2*budget)
	if ping {
		pinged = <-pingDone
	}
	return client, server, pinged
}

// Each layer alone detects within the budget, and so do both together.
func TestDeadPeer(t *testing.T) {
	t.Parallel()
	b, err := keepalivews.Within(budget)
	require.NoError(t, err)
	tcpBound, err := b.TCP.DetectionBound()
	require.NoError(t, err)
	t.Logf("budget %v: TCP %+v (bound %v), ping every %v, timeout %v", budget, b.TCP, tcpBound, b.PingInterval, b.PingTimeout)
	listen := func(t *testing.T) net.Listener {
		ln, err := b.Listen(t.Context(), "tcp4", "127.0.0.1:0")
		require.NoError(t, err)
		return ln
	}
	dialOptions := func(t *testing.T) *websocket.DialOptions {
		opts, err := b.DialOptions(nil)
		require.NoError(t, err)
		return opts
	}

	t.Run("TCP keepalive alone", func(t *testing.T) {
		if layertest.Isolate(t) {
			return
		}
		client, server, _ := measure(t, b, dialOptions(t), listen(t), false)
		layertest.Within(t, "WebSocket: TCP keepalive alone, client", client, tcpBound*9/10, budget, slack)
		layertest.Within(t, "WebSocket: TCP keepalive alone, server", server, tcpBound*9/10, budget, slack)
		assert.True(t, keepalive.IsDeadPeer(client.Err), "the kernel dropped the connection: %v", client.Err)
	})

	t.Run("WebSocket ping alone", func(t *testing.T) {
		if layertest.Isolate(t) {
			return
		}
		opts := &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{KeepAlive: -1}).DialContext}}}
		ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(t.Context(), "tcp4", "127.0.0.1:0")
		require.NoError(t, err)
		client, server, pinged := measure(t, b, opts, ln, true)
		least := (b.PingInterval + b.PingTimeout) * 9 / 10
		layertest.Within(t, "WebSocket: ping alone, client", client, least, budget, slack)
		layertest.Within(t, "WebSocket: ping alone, server", server, least, budget, slack)
		assert.ErrorIs(t, pinged, keepalivews.ErrNoPong)
		assert.True(t, errors.Is(client.Err, net.ErrClosed), "Ping closed the connection: %v", client.Err)
	})

	t.Run("every layer", func(t *testing.T) {
		if layertest.Isolate(t) {
			return
		}
		client, server, _ := measure(t, b, dialOptions(t), listen(t), true)
		least := min(tcpBound, b.PingInterval+b.PingTimeout) * 9 / 10
		layertest.Within(t, "WebSocket: every layer, client", client, least, budget, slack)
		layertest.Within(t, "WebSocket: every layer, server", server, least, budget, slack)
	})
}
