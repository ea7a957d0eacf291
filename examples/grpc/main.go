// Command grpc runs a gRPC server and client whose connections hold a kernel
// keepalive Config alongside gRPC's own keepalive, and checks the server's
// health with the standard health service (grpc.health.v1.Health).
//
//	go run ./examples/grpc                          # both, on loopback
//	go run ./examples/grpc -listen 127.0.0.1:50051  # a server
//	go run ./examples/grpc -target 127.0.0.1:50051  # a client: one health check
//
// It prints what the kernel holds for each connection after the RPC, read
// back with keepalive.Get.
//
// The server listens with keepalive.Config.Listen (Linux copies the
// listening socket's settings to every accepted one); the client dials
// through grpc.WithContextDialer with the Config's net.Dialer.
//
// Why both kinds of keepalive: gRPC's keepalive sends HTTP/2 PINGs, which
// the peer's gRPC library answers. That proves more than TCP does (the peer
// process still serves HTTP/2, through any proxy) and catches a peer that
// vanished while RPCs are active. But a client sends them only while it has
// RPCs in flight (unless PermitWithoutStream), no more often than the
// server's EnforcementPolicy allows (a client that pings too often gets a
// GOAWAY), and a server pings only after ServerParameters.Time, 2 hours by
// default. Kernel keepalive covers what is left: every idle channel and
// every accepted connection, with nothing to agree with the peer, and its
// probes go out even while the process is stuck (GC pause, deadlock,
// stopped), keeping NAT and firewall entries alive.
//
// The values here fit together:
//
//   - The kernel probes after 30 s of silence, every 10 s, 3 times: shorter
//     than common NAT idle timeouts, and the first to act on an idle
//     channel.
//   - The client pings after 1 minute without activity while RPCs are in
//     flight and waits 20 s for the answer. The server's EnforcementPolicy
//     permits a ping every 30 s, half the client's interval, so the client
//     is never sent away for pinging too often.
//   - The server pings after 2 minutes and waits 20 s.
//   - On Linux, gRPC itself sets TCP_USER_TIMEOUT to the keepalive Timeout
//     on every connection: on the server unless ServerParameters.Time is
//     infinite, on the client when ClientParameters.Time is set. The
//     Config's UserTimeout is set to that same value, so that
//     Config.DetectionBound and keepalive.Get agree with what the socket
//     holds: the kernel drops an idle connection at the first unanswered
//     probe 20 s after it last heard from the peer, within 40 s, and
//     unacknowledged data after 20 s.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	grpckeepalive "google.golang.org/grpc/keepalive"

	"github.com/go-keepalive/keepalive"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
}

// options are the command line.
type options struct {
	listen, target string
	kernel         keepalive.Config
	ping           time.Duration // gRPC keepalive: client ping interval
	pingTimeout    time.Duration // gRPC keepalive: wait for the ping's answer
}

func parse(args []string, errOut io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("grpc", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&o.listen, "listen", "", "run a server on this address")
	fs.StringVar(&o.target, "target", "", "run a client: check the health of the server at this address")
	fs.DurationVar(&o.kernel.Idle, "idle", 30*time.Second, "kernel: idle time before the first keepalive probe")
	fs.DurationVar(&o.kernel.Interval, "interval", 10*time.Second, "kernel: time between unanswered probes")
	fs.IntVar(&o.kernel.Count, "count", 3, "kernel: unanswered probes before the connection is dropped")
	fs.DurationVar(&o.ping, "ping", time.Minute, "gRPC: client ping after this long without activity (server: twice this)")
	fs.DurationVar(&o.pingTimeout, "ping-timeout", 20*time.Second, "gRPC: wait this long for a ping's answer; also the kernel's user timeout")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.listen != "" && o.target != "" {
		return o, errors.New("-listen and -target: choose one, or neither for both on loopback")
	}
	if o.ping <= 0 || o.pingTimeout <= 0 {
		return o, errors.New("-ping and -ping-timeout must be positive")
	}
	// gRPC sets TCP_USER_TIMEOUT to its keepalive Timeout on Linux anyway;
	// saying so in the Config keeps DetectionBound truthful.
	o.kernel.UserTimeout = o.pingTimeout
	return o, o.kernel.Validate()
}

// serverOptions are gRPC's keepalive settings for the server.
func serverOptions(o options) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.KeepaliveParams(grpckeepalive.ServerParameters{
			Time:    2 * o.ping,
			Timeout: o.pingTimeout,
		}),
		grpc.KeepaliveEnforcementPolicy(grpckeepalive.EnforcementPolicy{
			MinTime: o.ping / 2,
		}),
	}
}

// clientParameters are gRPC's keepalive settings for the client.
func clientParameters(o options) grpckeepalive.ClientParameters {
	return grpckeepalive.ClientParameters{
		Time:    o.ping,
		Timeout: o.pingTimeout,
		// Idle channels are left to the kernel.
		PermitWithoutStream: false,
	}
}

// newServer returns a gRPC server with the health service, SERVING.
func newServer(o options) *grpc.Server {
	srv := grpc.NewServer(serverOptions(o)...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	return srv
}

// listen returns a listener whose accepted connections hold the kernel
// Config. accepted, if not nil, is called with each of them.
func listen(ctx context.Context, o options, addr string, accepted func(net.Conn)) (net.Listener, error) {
	ln, err := o.kernel.Listen(ctx, nil, "tcp", addr)
	if err != nil || accepted == nil {
		return ln, err
	}
	return &watchedListener{Listener: ln, accepted: accepted}, nil
}

type watchedListener struct {
	net.Listener
	accepted func(net.Conn)
}

func (l *watchedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted(c)
	}
	return c, err
}

// dial returns a client connection whose TCP connections hold the kernel
// Config. dialed, if not nil, is called with each of them.
func dial(o options, target string, dialed func(net.Conn)) (*grpc.ClientConn, error) {
	d, err := o.kernel.Dialer(&net.Dialer{Timeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	return grpc.NewClient(target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithKeepaliveParams(clientParameters(o)),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, "tcp", addr)
			if err == nil && dialed != nil {
				dialed(c)
			}
			return c, err
		}),
	)
}

// check asks the server's health service for its overall status.
func check(ctx context.Context, cc *grpc.ClientConn) (healthpb.HealthCheckResponse_ServingStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return 0, err
	}
	return resp.GetStatus(), nil
}

// run parses args and runs a server, a client or both. ready, if not nil,
// is called with the server's address once it is listening.
func run(ctx context.Context, args []string, out io.Writer, ready func(net.Addr)) error {
	o, err := parse(args, out)
	if err != nil {
		return err
	}
	switch {
	case o.listen != "":
		return serve(ctx, o, out, ready)
	case o.target != "":
		return client(ctx, o, out)
	}
	_, err = demo(ctx, o, out, ready)
	return err
}

// serve runs a server until ctx is done, printing what the kernel holds for
// each accepted connection.
func serve(ctx context.Context, o options, out io.Writer, ready func(net.Addr)) error {
	ln, err := listen(ctx, o, o.listen, func(c net.Conn) {
		if _, err := report(out, "accepted", c); err != nil {
			fmt.Fprintln(out, err)
		}
	})
	if err != nil {
		return err
	}
	srv := newServer(o)
	fmt.Fprintf(out, "listening on %s\n", ln.Addr())
	if ready != nil {
		ready(ln.Addr())
	}
	stop := context.AfterFunc(ctx, srv.GracefulStop)
	defer stop()
	if err := srv.Serve(ln); !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// client makes one health check and prints what the kernel holds for the
// connection it went over.
func client(ctx context.Context, o options, out io.Writer) error {
	conns := make(chan net.Conn, 16)
	cc, err := dial(o, o.target, func(c net.Conn) { conns <- c })
	if err != nil {
		return err
	}
	defer cc.Close()
	status, err := check(ctx, cc)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "health check: %v\n", status)
	_, err = report(out, "client", latest(conns))
	return err
}

// ends is what the kernel holds for both ends of one connection.
type ends struct{ client, server keepalive.State }

// demo runs a server and a client on loopback, makes one health check and
// reports what the kernel holds for both ends of the connection.
func demo(ctx context.Context, o options, out io.Writer, ready func(net.Addr)) (ends, error) {
	var e ends
	accepted := make(chan net.Conn, 16)
	ln, err := listen(ctx, o, "127.0.0.1:0", func(c net.Conn) { accepted <- c })
	if err != nil {
		return e, err
	}
	srv := newServer(o)
	defer srv.Stop()
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(out, "server listening on %s\n", ln.Addr())
	if ready != nil {
		ready(ln.Addr())
	}

	dialed := make(chan net.Conn, 16)
	cc, err := dial(o, ln.Addr().String(), func(c net.Conn) { dialed <- c })
	if err != nil {
		return e, err
	}
	defer cc.Close()
	status, err := check(ctx, cc)
	if err != nil {
		return e, err
	}
	fmt.Fprintf(out, "health check: %v\n", status)
	if e.client, err = report(out, "client", latest(dialed)); err != nil {
		return e, err
	}
	if e.server, err = report(out, "server", latest(accepted)); err != nil {
		return e, err
	}
	fmt.Fprintf(out, "gRPC keepalive: the client pings after %v without activity while RPCs are in flight, the server after %v; each waits %v for the answer\n",
		o.ping, 2*o.ping, o.pingTimeout)
	return e, nil
}

// latest returns the last connection sent on c, nil if none.
func latest(c chan net.Conn) net.Conn {
	var conn net.Conn
	for {
		select {
		case conn = <-c:
		default:
			return conn
		}
	}
}

// report prints what the kernel holds for conn.
func report(out io.Writer, who string, conn net.Conn) (keepalive.State, error) {
	if conn == nil {
		return keepalive.State{}, fmt.Errorf("%s: no connection", who)
	}
	s, err := keepalive.Get(conn)
	if err != nil {
		return s, fmt.Errorf("%s: %w", who, err)
	}
	fmt.Fprintf(out, "%s %s -> %s\n  kernel holds: %s\n", who, conn.LocalAddr(), conn.RemoteAddr(), describe(s))
	return s, nil
}

// describe says what s holds and what it means for a vanished peer.
func describe(s keepalive.State) string {
	if !s.Enabled {
		return "keepalive off"
	}
	return fmt.Sprintf("keepalive on, idle %v, interval %v, count %d, user timeout %v: a vanished peer is noticed within %v",
		s.Config.Idle, s.Config.Interval, s.Config.Count, s.Config.UserTimeout, s.DetectionBound())
}
