// Command httpclient is a net/http client whose every connection holds a
// chosen kernel keepalive Config: the Config's Dialer is the Transport's
// DialContext.
//
//	go run ./examples/httpserver &
//	go run ./examples/httpclient
//	go run ./examples/httpclient -url http://127.0.0.1:8080/ -n 3 -idle 15s -interval 5s
//
// For each request it prints the status, whether the connection was new or
// reused from the Transport's pool, and what the kernel holds for it, read
// back with keepalive.Get.
//
// Why: a Transport keeps idle connections in its pool, and a response body
// may stream for hours (watch APIs, event streams, large downloads) with no
// http.Client.Timeout. When the server vanishes without a FIN or RST (a
// load balancer failed over, a NAT entry expired), a pooled connection
// stays ESTABLISHED, and a Read of a streaming body blocks forever. Kernel
// keepalive probes the idle connection and drops it after
// Idle + Interval*Count: the Transport removes it from the pool before a
// request is sent on it, and the blocked Read fails. UserTimeout drops the
// connection when a request it sent stays unacknowledged, where keepalive
// does not probe.
//
// http.DefaultTransport's dialer has KeepAlive 30s, which Go turns into
// 30 s idle, 15 s interval and 9 probes: 2m45s before a dead server is
// noticed, and nothing for unacknowledged data. The Config's Dialer sets its
// values before connecting and stops Go from overwriting them after.
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
	"net/http/httptrace"
	"os"
	"os/signal"
	"time"

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
	url     string
	n       int
	timeout time.Duration
	cfg     keepalive.Config
}

func parse(args []string, errOut io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("httpclient", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080/", "URL to GET")
	fs.IntVar(&o.n, "n", 2, "number of requests, on one pooled connection where the server allows it")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "dial timeout")
	fs.DurationVar(&o.cfg.Idle, "idle", 30*time.Second, "idle time before the first keepalive probe")
	fs.DurationVar(&o.cfg.Interval, "interval", 10*time.Second, "time between unanswered probes")
	fs.IntVar(&o.cfg.Count, "count", 3, "unanswered probes before the connection is dropped")
	fs.DurationVar(&o.cfg.UserTimeout, "user-timeout", time.Minute, "how long sent data may stay unacknowledged (0: leave alone)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	return o, o.cfg.Validate()
}

// newClient returns a client whose connections all hold cfg. dialed, if
// not nil, is called with each new connection.
func newClient(cfg keepalive.Config, timeout time.Duration, dialed func(net.Conn)) (*http.Client, error) {
	d, err := cfg.Dialer(&net.Dialer{Timeout: timeout})
	if err != nil {
		return nil, err
	}
	dial := d.DialContext
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = dial
	if dialed != nil {
		t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err == nil {
				dialed(c)
			}
			return c, err
		}
	}
	return &http.Client{Transport: t}, nil
}

// run makes the requests and prints what it learns to out. dialed, if not
// nil, is called with each new connection.
func run(ctx context.Context, args []string, out io.Writer, dialed func(net.Conn)) error {
	o, err := parse(args, out)
	if err != nil {
		return err
	}
	client, err := newClient(o.cfg, o.timeout, dialed)
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	for i := range o.n {
		if err := get(ctx, client, o.url, i+1, out); err != nil {
			return err
		}
	}
	return nil
}

// get makes one request and prints the status, the connection and what
// the kernel holds for it.
func get(ctx context.Context, client *http.Client, url string, i int, out io.Writer) error {
	var conn net.Conn
	var reused bool
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		conn, reused = info.Conn, info.Reused
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Ask the kernel before the body is consumed: after that the Transport
	// may close the connection.
	state, stateErr := keepalive.Get(conn)
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return err
	}
	if stateErr != nil {
		return fmt.Errorf("reading keepalive settings: %w", stateErr)
	}
	how := "new"
	if reused {
		how = "reused"
	}
	fmt.Fprintf(out, "request %d: %s, %d bytes, %s connection %s -> %s\n", i, resp.Status, n, how, conn.LocalAddr(), conn.RemoteAddr())
	fmt.Fprintf(out, "  kernel holds: %s\n", describe(state))
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// describe says what s holds and what it means for a vanished server.
func describe(s keepalive.State) string {
	if !s.Enabled {
		return "keepalive off: a vanished server is never noticed while the connection is idle"
	}
	return fmt.Sprintf("keepalive on, idle %v, interval %v, count %d, user timeout %v: a vanished server is noticed within %v",
		s.Config.Idle, s.Config.Interval, s.Config.Count, s.Config.UserTimeout, s.DetectionBound())
}
