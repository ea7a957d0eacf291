// Command heartbeat-client connects to heartbeat-server under a name and
// keeps the connection honest with application-level heartbeats: after
// -idle with nothing received it sends "HeartBeat", then every -interval,
// and after -count pings without an answer it declares the server dead.
// Kernel keepalive is applied to the socket as well.
//
//	go run ./examples/heartbeat-client -addr 127.0.0.1:7000 -id sensor-1
//
// With -say, it also sends a line every -every, to show data flowing.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"time"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/heartbeat"
	"github.com/go-keepalive/keepalive/keepalivetest"
)

type options struct {
	id        string
	idle      time.Duration
	interval  time.Duration
	count     int
	keepalive time.Duration
	say       string
	every     time.Duration
	vanish    time.Duration // fault injection: vanish after this long
}

func main() {
	addr := flag.String("addr", "127.0.0.1:7000", "server address")
	var o options
	flag.StringVar(&o.id, "id", "device-1", "the name to connect under")
	flag.DurationVar(&o.idle, "idle", 3*time.Second, "ping after this long with nothing received")
	flag.DurationVar(&o.interval, "interval", time.Second, "time between unanswered pings")
	flag.IntVar(&o.count, "count", 3, "unanswered pings before the server is declared dead")
	flag.DurationVar(&o.keepalive, "keepalive", 30*time.Second, "kernel keepalive: detect a vanished server within this")
	flag.StringVar(&o.say, "say", "", "a line to send every -every")
	flag.DurationVar(&o.every, "every", 5*time.Second, "how often to send -say")
	flag.DurationVar(&o.vanish, "vanish-after", 0, "fault injection (Linux, root or user namespace): after this long, vanish from the network without closing")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logger := log.New(os.Stdout, "", log.Ltime|log.Lmicroseconds)
	if err := run(ctx, *addr, o, logger); err != nil {
		logger.Fatal(err)
	}
}

// run keeps one session with the server until ctx is done (nil) or the
// server is declared dead (a *heartbeat.DeadError).
func run(ctx context.Context, addr string, o options, logger *log.Logger) error {
	cfg, err := keepalive.Within(o.keepalive)
	if err != nil {
		return err
	}
	d, err := cfg.Dialer(&net.Dialer{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "ID %s\n", o.id); err != nil {
		return err
	}
	logger.Printf("connected to %s as %s", conn.RemoteAddr(), o.id)

	p, err := heartbeat.NewPinger(heartbeat.PingerConfig{
		Idle:     o.idle,
		Interval: o.interval,
		Count:    o.count,
		Ping: func(context.Context) error {
			_, err := io.WriteString(conn, "HeartBeat\n")
			return err
		},
	})
	if err != nil {
		return err
	}
	// Every line from the server counts as an answer, OK or not.
	answers, err := p.Wrap(conn)
	if err != nil {
		return err
	}
	go func() {
		lines := bufio.NewScanner(answers)
		for lines.Scan() {
			if lines.Text() != "OK" {
				logger.Printf("server: %s", lines.Text())
			}
		}
	}()
	if o.say != "" {
		go func() {
			for range time.Tick(o.every) {
				if _, err := fmt.Fprintln(conn, o.say); err != nil {
					return
				}
			}
		}()
	}
	runCtx := ctx
	var vanished <-chan struct{}
	if o.vanish > 0 {
		runCtx, vanished = vanishAfter(ctx, o.vanish, conn, logger)
	}
	err = p.Run(runCtx)
	if vanished != nil && runCtx.Err() != nil && ctx.Err() == nil {
		// Exiting would close the socket and send a FIN: stay, silent,
		// like a host that lost its network, until interrupted.
		<-ctx.Done()
		return nil
	}
	if ctx.Err() != nil {
		return nil
	}
	logger.Printf("server dead: %v", err)
	return err
}

// vanishAfter makes this client vanish after d, like a device whose
// network disappears: its socket silently drops everything it receives
// and it sends nothing more, but nothing is closed. The returned context
// ends then, stopping the heartbeats, and the channel is closed.
func vanishAfter(ctx context.Context, d time.Duration, conn net.Conn, logger *log.Logger) (context.Context, <-chan struct{}) {
	ctx, cancel := context.WithCancel(ctx)
	vanished := make(chan struct{})
	time.AfterFunc(d, func() {
		if err := keepalivetest.Vanish(conn.(*net.TCPConn)); err != nil {
			logger.Printf("cannot vanish: %v", err)
			return
		}
		logger.Printf("vanished from the network (nothing closed, nothing sent)")
		close(vanished)
		cancel()
	})
	return ctx, vanished
}
