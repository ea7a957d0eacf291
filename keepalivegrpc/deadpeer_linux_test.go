package keepalivegrpc_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	ka "github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/internal/layertest"
	"github.com/go-keepalive/keepalive/internal/tcpinfo"
	"github.com/go-keepalive/keepalive/keepalivegrpc"
)

func TestMain(m *testing.M) { layertest.Main(m) }

// The budgets are the shortest gRPC-Go allows with keepalive.Within's
// least on Linux (2 s) for the answer: a client pings 10 s after the last
// frame at the earliest, a server 1 s after.
const (
	clientBudget = 12 * time.Second
	serverBudget = 4 * time.Second
)

// slack is how far past the budget a detection may land: timers fire a
// few milliseconds late, and the kernel acts on its own timer's tick.
const slack = 1.15

// watched is a health service that says when a Watch ended on the server:
// the server noticed its client is gone.
type watched struct {
	*health.Server
	ended chan layertest.Event
}

func (w *watched) Watch(req *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	err := w.Server.Watch(req, stream)
	layertest.Notice(w.ended, context.Cause(stream.Context()))
	return err
}

// rig is one gRPC server and client, and their connection's two ends.
type rig struct {
	cc                 *grpc.ClientConn
	ended              chan layertest.Event
	clientEnd, server  *net.TCPConn
	clientConns, conns *layertest.Conns
}

// start runs a server on ln with opts, and dials it with dial and copts;
// it returns once the client watches the server's health over one
// connection (a server-streaming RPC that stays open).
func start(t *testing.T, ln net.Listener, opts []grpc.ServerOption, dial func(context.Context, string) (net.Conn, error), copts ...grpc.DialOption) (healthpb.Health_WatchClient, *rig) {
	t.Helper()
	r := &rig{ended: make(chan layertest.Event, 1), clientConns: layertest.NewConns(), conns: layertest.NewConns()}
	srv := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(srv, &watched{Server: health.NewServer(), ended: r.ended})
	go func() { _ = srv.Serve(r.conns.Listener(ln)) }()
	t.Cleanup(srv.Stop)

	capture := r.clientConns.Dial(func(ctx context.Context, _, addr string) (net.Conn, error) { return dial(ctx, addr) })
	copts = append(copts,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) { return capture(ctx, "tcp", addr) }))
	cc, err := grpc.NewClient("passthrough:///"+ln.Addr().String(), copts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	r.cc = cc

	stream, err := healthpb.NewHealthClient(cc).Watch(t.Context(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	resp, err := stream.Recv()
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
	r.clientEnd, r.server = r.clientConns.Next(t), r.conns.Next(t)
	return stream, r
}

// partition cuts the connection and returns when each end noticed: the
// client's Watch fails, the server's Watch ends.
func (r *rig) partition(t *testing.T, stream healthpb.Health_WatchClient, limit time.Duration) (client, server layertest.Detected) {
	t.Helper()
	cut := layertest.Partition(t, r.clientEnd, r.server)
	failed := make(chan layertest.Event, 1)
	go func() {
		_, err := stream.Recv()
		layertest.Notice(failed, err)
	}()
	return cut.Wait(t, "client", r.clientEnd, failed, limit), cut.Wait(t, "server", r.server, r.ended, limit)
}

func budgets(t *testing.T) (keepalivegrpc.Client, keepalivegrpc.Server) {
	t.Helper()
	c, err := keepalivegrpc.ClientWithin(clientBudget)
	require.NoError(t, err)
	s, err := keepalivegrpc.ServerWithin(serverBudget)
	require.NoError(t, err)
	require.NoError(t, s.Accepts(c))
	return c, s
}

// After an RPC, the kernel holds on both ends exactly the Configs the
// budgets name: gRPC's own TCP_USER_TIMEOUT agrees with them.
func TestKernelHolds(t *testing.T) {
	c, s := budgets(t)
	sopts, err := s.ServerOptions()
	require.NoError(t, err)
	ln, err := s.Listen(t.Context(), "tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	copts, err := c.DialOptions()
	require.NoError(t, err)
	_, r := start(t, ln, sopts, c.Dial, copts...)
	for _, end := range []struct {
		name string
		conn *net.TCPConn
		want ka.Config
	}{{"client", r.clientEnd, c.TCP}, {"server", r.server, s.TCP}} {
		got, err := ka.Get(end.conn)
		require.NoError(t, err)
		assert.True(t, got.Enabled, end.name)
		assert.Equal(t, end.want, got.Config, end.name)
		t.Logf("%s holds %+v: a vanished peer is noticed within %v", end.name, got.Config, got.DetectionBound())
	}
}

// Without the budgets, gRPC-Go's own TCP_USER_TIMEOUT replaces the kernel
// Config's on both ends, as ClientEffective and ServerEffective predict:
// keepalive.Within(5s) under a default server holds a 20 s user timeout,
// and the kernel then probes for 20 s, not 5 s.
func TestEffectiveLive(t *testing.T) {
	cfg, err := ka.Within(5 * time.Second)
	require.NoError(t, err)
	ln, err := cfg.Listen(t.Context(), nil, "tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	d, err := cfg.Dialer(nil)
	require.NoError(t, err)
	dial := func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	cp := keepalive.ClientParameters{Time: time.Minute, Timeout: 3 * time.Second}
	_, r := start(t, ln, nil, dial, grpc.WithKeepaliveParams(cp))
	for _, end := range []struct {
		name string
		conn *net.TCPConn
		want ka.Config
	}{
		{"client", r.clientEnd, keepalivegrpc.ClientEffective(cfg, cp)},
		{"server", r.server, keepalivegrpc.ServerEffective(cfg, keepalive.ServerParameters{})},
	} {
		got, err := ka.Get(end.conn)
		require.NoError(t, err)
		assert.Equal(t, end.want, got.Config, end.name)
		assert.NotEqual(t, cfg.UserTimeout, got.Config.UserTimeout, "%s: gRPC replaced the user timeout", end.name)
		t.Logf("%s: asked for %+v, holds %+v: a vanished peer is noticed within %v, not %v", end.name, cfg, got.Config, got.DetectionBound(), bound(t, cfg))
	}
}

// Each layer alone notices within the budget, and so do both together.
// The peer vanishes while a Watch is open: the client waits for the next
// health update, the server's Watch for the client.
func TestDeadPeer(t *testing.T) {
	t.Parallel()
	c, s := budgets(t)
	t.Logf("client budget %v: TCP %+v, gRPC %+v", clientBudget, c.TCP, c.Keepalive)
	t.Logf("server budget %v: TCP %+v, gRPC %+v, policy %+v", serverBudget, s.TCP, s.Keepalive, s.Policy)
	noKeepalive := &net.ListenConfig{KeepAlive: -1}
	plainDial := func(ctx context.Context, addr string) (net.Conn, error) {
		return (&net.Dialer{KeepAlive: -1}).DialContext(ctx, "tcp", addr)
	}
	limit := 2 * clientBudget

	t.Run("TCP keepalive alone", func(t *testing.T) {
		if layertest.Isolate(t) {
			return
		}
		ln, err := s.Listen(t.Context(), "tcp4", "127.0.0.1:0")
		require.NoError(t, err)
		// gRPC pings off on both ends: gRPC leaves TCP_USER_TIMEOUT alone.
		off := []grpc.ServerOption{grpc.KeepaliveParams(keepaliveOff(s))}
		stream, r := start(t, ln, off, c.Dial)
		client, server := r.partition(t, stream, limit)
		layertest.Within(t, "gRPC: TCP keepalive alone, client", client, bound(t, c.TCP)*9/10, clientBudget, slack)
		layertest.Within(t, "gRPC: TCP keepalive alone, server", server, bound(t, s.TCP)*9/10, serverBudget, slack)
		assert.Equal(t, codes.Unavailable, status.Code(client.Err), "%v", client.Err)
		assert.ErrorContains(t, client.Err, "connection timed out", "the kernel dropped the connection")
	})

	t.Run("gRPC keepalive alone", func(t *testing.T) {
		if layertest.Isolate(t) {
			return
		}
		ln, err := noKeepalive.Listen(t.Context(), "tcp4", "127.0.0.1:0")
		require.NoError(t, err)
		sopts, err := s.ServerOptions()
		require.NoError(t, err)
		copts, err := c.DialOptions()
		require.NoError(t, err)
		// Kernel keepalive off on both ends; gRPC still sets
		// TCP_USER_TIMEOUT to its Timeout, which bounds the unanswered
		// ping as gRPC's own timer does.
		stream, r := start(t, ln, sopts, plainDial, copts...)
		client, server := r.partition(t, stream, limit)
		layertest.Within(t, "gRPC: gRPC keepalive alone, client", client, (c.Keepalive.Time+c.Keepalive.Timeout)*9/10, clientBudget, slack)
		layertest.Within(t, "gRPC: gRPC keepalive alone, server", server, (s.Keepalive.Time+s.Keepalive.Timeout)*9/10, serverBudget, slack)
		assert.Equal(t, codes.Unavailable, status.Code(client.Err), "%v", client.Err)
	})

	t.Run("every layer", func(t *testing.T) {
		if layertest.Isolate(t) {
			return
		}
		ln, err := s.Listen(t.Context(), "tcp4", "127.0.0.1:0")
		require.NoError(t, err)
		sopts, err := s.ServerOptions()
		require.NoError(t, err)
		copts, err := c.DialOptions()
		require.NoError(t, err)
		stream, r := start(t, ln, sopts, c.Dial, copts...)
		client, server := r.partition(t, stream, limit)
		layertest.Within(t, "gRPC: every layer, client", client, bound(t, c.TCP)*9/10, clientBudget, slack)
		layertest.Within(t, "gRPC: every layer, server", server, bound(t, s.TCP)*9/10, serverBudget, slack)
		assert.Equal(t, codes.Unavailable, status.Code(client.Err), "%v", client.Err)
	})
}

// keepaliveOff is s's parameters with pings off.
func keepaliveOff(s keepalivegrpc.Server) (p keepalive.ServerParameters) {
	p = s.Keepalive
	p.Time = keepalivegrpc.Infinity
	return p
}

// A server with ServerWithin's policy lets a client ping at gRPC-Go's
// floor, 10 s, for as long as it likes; a server with gRPC's default
// policy (a ping per 5 minutes) sends it away with too_many_pings at its
// third early ping, as CheckPolicy predicts. The client's pings are the only
// traffic: the Watch stays open, server pings are off. (A ping the client
// sends when the Watch's first response arrives sets the server's clock.)
func TestPolicy(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("keepalivegrpc: the policy test needs three client pings, 30 s; skipped in -short mode")
	}
	c, s := budgets(t)
	s.Keepalive.Time = keepalivegrpc.Infinity
	const thirdPing = 3 * keepalivegrpc.ClientMinTime
	run := func(t *testing.T, policy keepalive.EnforcementPolicy) (healthpb.Health_WatchClient, *rig, time.Time) {
		ln, err := s.Listen(t.Context(), "tcp4", "127.0.0.1:0")
		require.NoError(t, err)
		copts, err := c.DialOptions()
		require.NoError(t, err)
		opts := []grpc.ServerOption{grpc.KeepaliveParams(s.Keepalive), grpc.KeepaliveEnforcementPolicy(policy)}
		stream, r := start(t, ln, opts, c.Dial, copts...)
		return stream, r, time.Now()
	}
	failed := func(stream healthpb.Health_WatchClient) <-chan layertest.Event {
		ch := make(chan layertest.Event, 1)
		go func() {
			_, err := stream.Recv()
			layertest.Notice(ch, err)
		}()
		return ch
	}

	t.Run("accepted", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, keepalivegrpc.CheckPolicy(c.Keepalive, s.Policy))
		stream, r, begin := run(t, s.Policy)
		before := received(t, r.server)
		select {
		case e := <-failed(stream):
			t.Fatalf("the stream failed after %v: %v", e.At.Sub(begin), e.Err)
		case <-time.After(thirdPing + 2*time.Second):
		}
		const pingFrame = 9 + 8 // frame header and 8 bytes of data
		got := received(t, r.server) - before
		t.Logf("the server took %d bytes, pings and nothing else, in %v without complaint", got, thirdPing+2*time.Second)
		assert.GreaterOrEqual(t, got, uint64(3*pingFrame), "three pings at least")
	})

	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		var pe *keepalivegrpc.PolicyError
		require.ErrorAs(t, keepalivegrpc.CheckPolicy(c.Keepalive, keepalive.EnforcementPolicy{}), &pe)
		t.Log(pe)
		stream, _, begin := run(t, keepalive.EnforcementPolicy{})
		// Up to a ping later if the ping that sets the server's clock
		// were not sent: the first early ping would then set it.
		d := layertest.Wait(t, "GOAWAY", failed(stream), begin, thirdPing+keepalivegrpc.ClientMinTime+5*time.Second)
		t.Logf("sent away after %v: %v", d.After, d.Err)
		assert.ErrorContains(t, d.Err, "too_many_pings")
		assert.GreaterOrEqual(t, d.After, thirdPing-time.Second, "not before the third ping")
	})
}

// received is how many bytes of data conn has received.
func received(t *testing.T, conn *net.TCPConn) uint64 {
	t.Helper()
	info, err := tcpinfo.Get(conn)
	require.NoError(t, err)
	return info.Bytes_received
}

// The fight the budgets avoid, measured: kernel keepalive.Within(4s) on the
// listener of a server with gRPC's default keepalive. gRPC sets
// TCP_USER_TIMEOUT to its default 20 s Timeout, the kernel probes until
// then, and a vanished client is noticed after 20 s, not 4 s.
func TestDefaultServerFight(t *testing.T) {
	if layertest.Isolate(t) {
		return
	}
	cfg, err := ka.Within(serverBudget)
	require.NoError(t, err)
	effective := keepalivegrpc.ServerEffective(cfg, keepalive.ServerParameters{})
	want := bound(t, effective)
	ln, err := cfg.Listen(t.Context(), nil, "tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	plainDial := func(ctx context.Context, addr string) (net.Conn, error) {
		return (&net.Dialer{KeepAlive: -1}).DialContext(ctx, "tcp", addr)
	}
	_, r := start(t, ln, nil, plainDial)
	cut := layertest.Partition(t, r.clientEnd, r.server)
	server := cut.Wait(t, "server", r.server, r.ended, 2*want)
	layertest.Within(t, fmt.Sprintf("gRPC: default server, kernel Within(%v), server (%.1fx the %v asked)", serverBudget, float64(server.After)/float64(serverBudget), serverBudget),
		server, want*9/10, want, slack)
}
