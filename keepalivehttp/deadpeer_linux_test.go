package keepalivehttp_test

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/internal/layertest"
	"github.com/go-keepalive/keepalive/keepalivehttp"
)

func TestMain(m *testing.M) { layertest.Main(m) }

// budget is short so that the tests stay quick, and long enough for
// keepalive.Within on Linux (2 s at least) to spread three probes.
const budget = 4 * time.Second

// slack is how far past the budget a detection may land: the kernel's
// timers fire a few milliseconds late, and so do Go's under load.
const slack = 1.15

// stack is one way to run net/http: how the client dials and the server
// listens, and which protocols they speak.
type stack struct {
	transport *http.Transport
	listen    func(ctx context.Context) (net.Listener, error)
	server    *http.Server
}

// streaming starts a response, then waits for the request to end and
// says when it did.
func streaming(ended chan<- layertest.Event) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush()
		<-r.Context().Done()
		layertest.Notice(ended, context.Cause(r.Context()))
	})
}

// measure runs a streaming request over s, partitions its connection and
// returns when each end noticed: the client's body Read fails, the server's
// request context ends.
func measure(t *testing.T, s stack, proto string) (client, server layertest.Detected) {
	t.Helper()
	clientConns, serverConns := layertest.NewConns(), layertest.NewConns()
	s.transport.DialContext = clientConns.Dial(s.transport.DialContext)
	ln, err := s.listen(t.Context())
	require.NoError(t, err)
	ended := make(chan layertest.Event, 1)
	s.server.Handler = streaming(ended)
	s.server.ErrorLog = log.New(t.Output(), "server: ", 0) // "timeout waiting for PING response"
	go func() { _ = s.server.Serve(serverConns.Listener(ln)) }()
	t.Cleanup(func() { _ = s.server.Close() })
	t.Cleanup(s.transport.CloseIdleConnections)

	resp, err := (&http.Client{Transport: s.transport}).Get("http://" + ln.Addr().String() + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, proto, resp.Proto)

	clientEnd, serverEnd := clientConns.Next(t), serverConns.Next(t)
	cut := layertest.Partition(t, clientEnd, serverEnd)
	read := make(chan layertest.Event, 1)
	go func() {
		_, err := io.Copy(io.Discard, resp.Body)
		layertest.Notice(read, err)
	}()
	return cut.Wait(t, "client", clientEnd, read, 2*budget), cut.Wait(t, "server", serverEnd, ended, 2*budget)
}

func protocols(h1, h2c bool) *http.Protocols {
	var p http.Protocols
	p.SetHTTP1(h1)
	p.SetUnencryptedHTTP2(h2c)
	return &p
}

// Each layer alone detects within the budget, and so do all of them
// together. The peer vanishes while a response streams: the client waits
// for more body, the server's handler for the request to end.
func TestDeadPeer(t *testing.T) {
	t.Parallel()
	b, err := keepalivehttp.Within(budget)
	require.NoError(t, err)
	require.NoError(t, b.Validate())
	tcpBound, err := b.TCP.DetectionBound()
	require.NoError(t, err)
	t.Logf("budget %v: TCP %+v (bound %v), HTTP/2 PING after %v, timeout %v", budget, b.TCP, tcpBound, b.PingAfter, b.PingTimeout)
	h2, err := b.HTTP2Config(nil)
	require.NoError(t, err)
	noKeepalive := &net.ListenConfig{KeepAlive: -1}

	t.Run("TCP keepalive alone, HTTP/1.1", func(t *testing.T) {
		if layertest.Isolate(t) {
			return
		}
		tr, err := b.Transport(&http.Transport{Protocols: protocols(true, false)})
		require.NoError(t, err)
		client, server := measure(t, stack{
			transport: tr,
			listen:    func(ctx context.Context) (net.Listener, error) { return b.Listen(ctx, "tcp4", "127.0.0.1:0") },
			server:    &http.Server{Protocols: protocols(true, false)},
		}, "HTTP/1.1")
		least := tcpBound * 9 / 10
		layertest.Within(t, "net/http: TCP keepalive alone (HTTP/1.1), client", client, least, budget, slack)
		layertest.Within(t, "net/http: TCP keepalive alone (HTTP/1.1), server", server, least, budget, slack)
		assert.True(t, keepalive.IsDeadPeer(client.Err), "the kernel dropped the connection: %v", client.Err)
	})

	t.Run("HTTP/2 PING alone", func(t *testing.T) {
		if layertest.Isolate(t) {
			return
		}
		client, server := measure(t, stack{
			transport: &http.Transport{
				Protocols:   protocols(false, true),
				HTTP2:       h2,
				DialContext: (&net.Dialer{KeepAlive: -1}).DialContext,
			},
			listen: func(ctx context.Context) (net.Listener, error) { return noKeepalive.Listen(ctx, "tcp4", "127.0.0.1:0") },
			server: &http.Server{Protocols: protocols(false, true), HTTP2: h2},
		}, "HTTP/2.0")
		least := (b.PingAfter + b.PingTimeout) * 9 / 10
		layertest.Within(t, "net/http: HTTP/2 PING alone, client", client, least, budget, slack)
		layertest.Within(t, "net/http: HTTP/2 PING alone, server", server, least, budget, slack)
		assert.ErrorContains(t, client.Err, "client connection lost", "the unanswered PING closed the connection")
	})

	t.Run("every layer, HTTP/2", func(t *testing.T) {
		if layertest.Isolate(t) {
			return
		}
		tr, err := b.Transport(&http.Transport{Protocols: protocols(false, true)})
		require.NoError(t, err)
		client, server := measure(t, stack{
			transport: tr,
			listen:    func(ctx context.Context) (net.Listener, error) { return b.Listen(ctx, "tcp4", "127.0.0.1:0") },
			server:    &http.Server{Protocols: protocols(false, true), HTTP2: h2},
		}, "HTTP/2.0")
		least := min(tcpBound, b.PingAfter+b.PingTimeout) * 9 / 10
		layertest.Within(t, "net/http: every layer (HTTP/2), client", client, least, budget, slack)
		layertest.Within(t, "net/http: every layer (HTTP/2), server", server, least, budget, slack)
	})
}
