// Command heartbeat-server is an echo server that notices dead clients two
// ways: kernel keepalive on every accepted socket, and application-level
// heartbeats tracked by a heartbeat.Monitor.
//
// The protocol is one line per message. A client first sends "ID <name>",
// then any lines; "HeartBeat" is answered with "OK", anything else is
// echoed back. A client silent for longer than -timeout is evicted: its
// connection is half-closed first (a slow but alive client still gets its
// in-flight data read for -grace), then closed. A client that connects
// again under the same name replaces its old connection at once, so a
// device that reboots in a loop never leaves stale connections behind.
//
//	go run ./examples/heartbeat-server -addr 127.0.0.1:7000
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/heartbeat"
)

// options are the server's settings.
type options struct {
	timeout   time.Duration // evict a client silent for this long
	grace     time.Duration // after half-closing, read in-flight data this long
	keepalive time.Duration // kernel keepalive detects a vanished client within this
}

func main() {
	addr := flag.String("addr", "127.0.0.1:7000", "address to listen on")
	var o options
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "evict a client that sent nothing for this long")
	flag.DurationVar(&o.grace, "grace", 2*time.Second, "after half-closing an evicted connection, keep reading this long")
	flag.DurationVar(&o.keepalive, "keepalive", 30*time.Second, "kernel keepalive: detect a vanished client within this")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logger := log.New(os.Stdout, "", log.Ltime|log.Lmicroseconds)
	ln, err := listen(ctx, *addr, o)
	if err != nil {
		logger.Fatal(err)
	}
	logger.Printf("listening on %s", ln.Addr())
	if err := serve(ctx, ln, o, logger); err != nil {
		logger.Fatal(err)
	}
}

// listen opens a listener whose accepted connections all hold the kernel
// keepalive Config derived from o.keepalive.
func listen(ctx context.Context, addr string, o options) (net.Listener, error) {
	cfg, err := keepalive.Within(o.keepalive)
	if err != nil {
		return nil, err
	}
	return cfg.Listen(ctx, nil, "tcp", addr)
}

// serve accepts clients until ctx is done.
func serve(ctx context.Context, ln net.Listener, o options, logger *log.Logger) error {
	mon, err := heartbeat.NewMonitor(heartbeat.MonitorConfig[string]{
		IdleTimeout: o.timeout,
		Grace:       o.grace,
		OnEvict: func(id string, _ io.Closer, reason heartbeat.Reason) {
			logger.Printf("%s: evicted: %v", id, reason)
		},
	})
	if err != nil {
		return err
	}
	defer mon.Close()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		go handle(conn, mon, o, logger)
	}
}

// handle runs one client's session.
func handle(conn net.Conn, mon *heartbeat.Monitor[string], o options, logger *log.Logger) {
	// The client has -timeout to say who it is.
	conn.SetReadDeadline(time.Now().Add(o.timeout))
	r := bufio.NewReader(conn)
	hello, err := r.ReadString('\n')
	id, ok := strings.CutPrefix(strings.TrimSpace(hello), "ID ")
	if err != nil || !ok || id == "" {
		logger.Printf("%v: no ID line: %q %v", conn.RemoteAddr(), hello, err)
		conn.Close()
		return
	}
	conn.SetReadDeadline(time.Time{})

	// From here on every line read refreshes the client in the Monitor;
	// a connection already tracked under id is replaced and closed.
	buffered, _ := r.Peek(r.Buffered())
	tracked, err := mon.TrackConn(id, conn)
	if err != nil {
		logger.Printf("%s: %v", id, err)
		conn.Close()
		return
	}
	defer tracked.Close()
	logger.Printf("%s: connected from %v", id, conn.RemoteAddr())
	lines := bufio.NewScanner(io.MultiReader(bytes.NewReader(bytes.Clone(buffered)), tracked))
	for lines.Scan() {
		reply := "OK"
		if line := lines.Text(); line != "HeartBeat" {
			reply = "echo: " + line
		}
		if _, err := fmt.Fprintln(tracked, reply); err != nil {
			break
		}
	}
	logger.Printf("%s: gone: %s", id, why(lines.Err()))
}

// why says in words how a session ended.
func why(err error) string {
	switch {
	case err == nil:
		return "the client closed the connection"
	case keepalive.IsDeadPeer(err):
		return "kernel keepalive found the client dead (" + err.Error() + ")"
	case errors.Is(err, net.ErrClosed):
		return "closed by the server"
	}
	return err.Error()
}
