// Command httpserver is a net/http server whose every accepted connection
// holds a chosen kernel keepalive Config.
//
//	go run ./examples/httpserver
//	go run ./examples/httpserver -addr :8080 -idle 20s -interval 5s -count 4
//	curl -s http://127.0.0.1:8080/
//
// Each response says what the kernel holds for the connection it was sent
// on, read back with keepalive.Get.
//
// Why: net/http's own timeouts (ReadHeaderTimeout, IdleTimeout) bound the
// wait for the next request, but not a handler that streams a long response,
// a long poll, server-sent events or a hijacked WebSocket. When such a client
// vanishes without a FIN or RST (laptop lid closed, NAT entry expired), only
// the kernel notices: keepalive probes the idle connection and drops it after
// Idle + Interval*Count, and UserTimeout drops it when response data it sent
// stays unacknowledged, where keepalive does not probe. The blocked Read or
// Write then fails and the handler returns.
//
// Go's net.Listen already turns keepalive on, with 15 s idle, 15 s interval
// and 9 probes (2m30s), and spends four setsockopt calls per accepted
// connection doing so. keepalive.Config.Listen configures the listening
// socket once instead; Linux copies the settings to every socket it accepts,
// so accepting costs no system call at all. For a listener made elsewhere
// (socket activation, a library's), -wrap shows Config.Listener, which
// applies the Config to each accepted connection.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/go-keepalive/keepalive"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stderr, func(addr net.Addr) {
		log.Printf("listening on http://%s/", addr)
	})
	if err != nil {
		log.Fatal(err)
	}
}

// options are the command line.
type options struct {
	addr string
	cfg  keepalive.Config
	wrap bool
}

func parse(args []string, errOut io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("httpserver", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.DurationVar(&o.cfg.Idle, "idle", 30*time.Second, "idle time before the first keepalive probe")
	fs.DurationVar(&o.cfg.Interval, "interval", 10*time.Second, "time between unanswered probes")
	fs.IntVar(&o.cfg.Count, "count", 3, "unanswered probes before the connection is dropped")
	fs.DurationVar(&o.cfg.UserTimeout, "user-timeout", time.Minute, "how long sent data may stay unacknowledged (0: leave alone)")
	fs.BoolVar(&o.wrap, "wrap", false, "listen with net.Listen and wrap the listener with Config.Listener")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	return o, o.cfg.Validate()
}

// run serves until ctx is done, then shuts down gracefully. ready, if not
// nil, is called with the address once the server is listening.
func run(ctx context.Context, args []string, logOut io.Writer, ready func(net.Addr)) error {
	o, err := parse(args, logOut)
	if err != nil {
		return err
	}
	ln, err := listen(ctx, o)
	if err != nil {
		return err
	}
	srv := newServer(log.New(logOut, "httpserver: ", log.LstdFlags))
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// listen returns a listener whose accepted connections hold o.cfg.
func listen(ctx context.Context, o options) (net.Listener, error) {
	if !o.wrap {
		// The listening socket is configured once; accepted sockets
		// inherit the settings.
		return o.cfg.Listen(ctx, nil, "tcp", o.addr)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, err
	}
	wrapped, err := o.cfg.Listener(ln)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return wrapped, nil
}

type connKey struct{}

// newServer returns a server whose handler reports what the kernel holds
// for the connection it answers on.
func newServer(logger *log.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		conn, _ := r.Context().Value(connKey{}).(net.Conn)
		s, err := keepalive.Get(conn)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "hello %s\n", r.RemoteAddr)
		fmt.Fprintf(w, "this connection: %s\n", describe(s))
	})
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          logger,
		// The handler needs the connection itself to read its socket
		// options back.
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
	}
}

// describe says what s holds and what it means for a vanished peer.
func describe(s keepalive.State) string {
	if !s.Enabled {
		return "keepalive off: a vanished client is never noticed while the connection is idle"
	}
	return fmt.Sprintf("keepalive on, idle %v, interval %v, count %d, user timeout %v: a vanished client is dropped within %v",
		s.Config.Idle, s.Config.Interval, s.Config.Count, s.Config.UserTimeout, s.DetectionBound())
}
