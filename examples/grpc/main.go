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
// The server listens with keepalivegrpc.Server.Listen (Linux copies the
// listening socket's settings to every accepted one); the client dials
// through keepalivegrpc.Client.DialOptions, whose context dialer applies the
// Config before connecting.
//
// Why both kinds of keepalive: gRPC's keepalive sends HTTP/2 PINGs, which
// the peer's gRPC library answers. That proves more than TCP does (the peer
// process still serves HTTP/2, through any proxy) and catches a peer that
// vanished while RPCs are active. But by default a client sends none, and
// only while it has RPCs in flight (unless PermitWithoutStream), no more
// often than the server's EnforcementPolicy allows (a client that pings too
// often gets a GOAWAY), and a server pings only after ServerParameters.Time,
// 2 hours by default. Kernel keepalive covers what is left: every idle channel and
// every accepted connection, with nothing to agree with the peer, and its
// probes go out even while the process is stuck (GC pause, deadlock,
// stopped), keeping NAT and firewall entries alive.
//
// The values come from one budget per side, through
// github.com/go-keepalive/keepalive/keepalivegrpc, so that they fit
// together:
//
//   - -within (10 s) is the server's budget: it pings after 5 s without a
//     frame and waits 5 s for the answer, and the kernel gets
//     keepalive.Within(5s). gRPC itself sets TCP_USER_TIMEOUT to the ping's
//     timeout on Linux, on every connection (20 s unless told otherwise):
//     the kernel Config's UserTimeout is that same value, so that
//     keepalive.Get reads back exactly the Config and its DetectionBound.
//   - -client-within (30 s) is the client's: it pings after 15 s without a
//     frame, also while idle, and waits 15 s; kernel keepalive.Within(15s).
//     gRPC-Go never pings sooner than 10 s after the last frame, so a
//     client budget is at least 12 s.
//   - The server's EnforcementPolicy permits a ping per 10 s, also without
//     RPCs: every client keepalivegrpc makes passes it (CheckPolicy), so
//     none is sent away with too_many_pings.
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

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/keepalivegrpc"
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
	server         keepalivegrpc.Server
	client         keepalivegrpc.Client
}

func parse(args []string, errOut io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("grpc", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&o.listen, "listen", "", "run a server on this address")
	fs.StringVar(&o.target, "target", "", "run a client: check the health of the server at this address")
	within := fs.Duration("within", 10*time.Second, "server: notice a vanished client within this budget")
	clientWithin := fs.Duration("client-within", 30*time.Second, "client: notice a vanished server within this budget (12s at least)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.listen != "" && o.target != "" {
		return o, errors.New("-listen and -target: choose one, or neither for both on loopback")
	}
	var err error
	if o.server, err = keepalivegrpc.ServerWithin(*within); err != nil {
		return o, err
	}
	if o.client, err = keepalivegrpc.ClientWithin(*clientWithin); err != nil {
		return o, err
	}
	return o, o.server.Accepts(o.client)
}

// newServer returns a gRPC server with the health service, SERVING.
func newServer(o options) (*grpc.Server, error) {
	opts, err := o.server.ServerOptions()
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	return srv, nil
}

// listen returns a listener whose accepted connections hold the server's
// kernel Config. accepted, if not nil, is called with each of them.
func listen(ctx context.Context, o options, addr string, accepted func(net.Conn)) (net.Listener, error) {
	ln, err := o.server.Listen(ctx, "tcp", addr)
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

// dial returns a client connection with the client's gRPC keepalive, whose
// TCP connections hold its kernel Config. dialed, if not nil, is called
// with each of them.
func dial(o options, target string, dialed func(net.Conn)) (*grpc.ClientConn, error) {
	opts, err := o.client.DialOptions()
	if err != nil {
		return nil, err
	}
	return grpc.NewClient(target, append(opts,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// The client's own dialer, watched: the last WithContextDialer counts.
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			c, err := o.client.Dial(ctx, addr)
			if err == nil && dialed != nil {
				dialed(c)
			}
			return c, err
		}),
	)...)
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
	srv, err := newServer(o)
	if err != nil {
		_ = ln.Close()
		return err
	}
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
	srv, err := newServer(o)
	if err != nil {
		_ = ln.Close()
		return e, err
	}
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
	c, sp := o.client.Keepalive, o.server.Keepalive
	fmt.Fprintf(out, "gRPC keepalive: the client pings after %v without a frame, also when idle, and waits %v; the server after %v, and waits %v; it permits a ping per %v\n",
		c.Time, c.Timeout, sp.Time, sp.Timeout, o.server.Policy.MinTime)
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
