// Command dbdialer shows kernel keepalive for a database driver's
// connections, through the custom dial func that drivers accept.
//
//	go run ./examples/dbdialer                         # server and client, on loopback
//	go run ./examples/dbdialer -listen 127.0.0.1:7070  # the server
//	go run ./examples/dbdialer -addr 127.0.0.1:7070    # the client
//	go run ./examples/dbdialer -within 30s
//
// The "database" is a tiny line protocol (PING, ECHO text) and the "driver"
// takes a dial func in its config, as real drivers do. The dial func comes
// from keepalive.Config.Dialer, so every connection the driver opens holds
// the Config, set before it connects. The client prints what the kernel
// holds for its connection, read back with keepalive.Get.
//
// Why: drivers keep connections in a pool for minutes or hours. When the
// database vanishes without a FIN or RST (failover to a replica, a host
// lost, a NAT or load-balancer entry expired), a pooled connection still
// looks fine. The next query's Write succeeds into the socket buffer and its
// Read waits for an answer that never comes, until a context deadline, if
// there is one, or until TCP gives up retransmitting, about 15 minutes on
// Linux. With keepalive the kernel drops the dead idle connection within
// Idle + Interval*Count: the next use fails at once, and the pool
// replaces the connection (database/sql retries on a new one when the driver
// reports a bad connection). The same bound
// covers a long query whose server died while the client waited for the
// result, and UserTimeout covers a query stuck in the send buffer. Probes
// after an idle time shorter than the network's idle timeout also keep NAT
// and load-balancer entries from expiring. keepalive.Within(d) derives all
// of it from one target: -within 1m gives 30 s idle, 10 s interval,
// 3 probes and a 1 minute user timeout.
//
// How to hand the dialer to real drivers, whose dial hooks have one of the
// two shapes below (DialFunc and AddrDialFunc):
//
//	d, err := cfg.Dialer(&net.Dialer{Timeout: 5 * time.Second}) // validated now
//
//	// github.com/jackc/pgx/v5: pgconn.Config.DialFunc is a DialFunc. Set it
//	// after ParseConfig, which installs its own; the net.Dialer's Timeout
//	// then takes the place of connect_timeout.
//	pgcfg, err := pgxpool.ParseConfig(dsn)
//	pgcfg.ConnConfig.DialFunc = d.DialContext
//
//	// github.com/redis/go-redis/v9: Options.Dialer is a DialFunc.
//	rdb := redis.NewClient(&redis.Options{Addr: addr, Dialer: d.DialContext})
//
//	// github.com/go-sql-driver/mysql: a DialContextFunc is an AddrDialFunc,
//	// registered under a network name that the DSN then uses.
//	mysql.RegisterDialContext("tcp", func(ctx context.Context, addr string) (net.Conn, error) {
//		return d.DialContext(ctx, "tcp", addr)
//	})
package main

import (
	"bufio"
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
	"sync"
	"time"

	"github.com/go-keepalive/keepalive"
)

// DialFunc is the dial hook of pgx (pgconn.DialFunc), go-redis
// (Options.Dialer) and many other drivers: the shape of
// net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// AddrDialFunc is the dial hook of go-sql-driver/mysql
// (mysql.DialContextFunc, for mysql.RegisterDialContext): the network is the
// name it was registered under, so only the address is passed.
type AddrDialFunc func(ctx context.Context, addr string) (net.Conn, error)

// The Config's dialer fits both.
var (
	_ DialFunc     = (&net.Dialer{}).DialContext
	_ AddrDialFunc = addrDial(keepalive.Config{}.Dialer(nil))
)

// addrDial adapts d to the mysql shape: TCP to addr. It takes what
// Config.Dialer returns; if that is an error, every dial fails with it.
func addrDial(d *net.Dialer, err error) AddrDialFunc {
	if err != nil {
		return func(context.Context, string) (net.Conn, error) { return nil, err }
	}
	return func(ctx context.Context, addr string) (net.Conn, error) {
		return d.DialContext(ctx, "tcp", addr)
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
}

// options are the command line.
type options struct {
	listen, addr string
	timeout      time.Duration
	cfg          keepalive.Config
}

func parse(args []string, errOut io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("dbdialer", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&o.listen, "listen", "", "run the server on this address")
	fs.StringVar(&o.addr, "addr", "", "run the client against the server at this address")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "dial timeout")
	within := fs.Duration("within", time.Minute, "detect a vanished server within this long (keepalive.Within)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.listen != "" && o.addr != "" {
		return o, errors.New("-listen and -addr: choose one, or neither for both on loopback")
	}
	var err error
	o.cfg, err = keepalive.Within(*within)
	return o, err
}

// run parses args and runs the server, the client or both. ready, if not
// nil, is called with the server's address once it is listening.
func run(ctx context.Context, args []string, out io.Writer, ready func(net.Addr)) error {
	o, err := parse(args, out)
	if err != nil {
		return err
	}
	if o.listen != "" {
		ln, err := net.Listen("tcp", o.listen)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "listening on %s\n", ln.Addr())
		if ready != nil {
			ready(ln.Addr())
		}
		stop := context.AfterFunc(ctx, func() { ln.Close() })
		defer stop()
		if err := serve(ln); !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	}
	if o.addr != "" {
		_, err := client(ctx, o, o.addr, nil, out)
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	go func() { _ = serve(ln) }()
	fmt.Fprintf(out, "server listening on %s\n", ln.Addr())
	if ready != nil {
		ready(ln.Addr())
	}
	_, err = client(ctx, o, ln.Addr().String(), nil, out)
	return err
}

// client connects with the driver, through the Config's dialer, runs two
// queries and reports what the kernel holds for the connection. dialed, if
// not nil, is called with each new connection.
func client(ctx context.Context, o options, addr string, dialed func(net.Conn), out io.Writer) (keepalive.State, error) {
	d, err := o.cfg.Dialer(&net.Dialer{Timeout: o.timeout})
	if err != nil {
		return keepalive.State{}, err
	}
	dial := DialFunc(d.DialContext)
	if dialed != nil {
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err == nil {
				dialed(c)
			}
			return c, err
		}
	}
	conn, err := Connect(ctx, DriverConfig{Addr: addr, DialFunc: dial})
	if err != nil {
		return keepalive.State{}, err
	}
	defer conn.Close()
	for _, q := range []string{"PING", "ECHO hello"} {
		r, err := conn.Query(ctx, q)
		if err != nil {
			return keepalive.State{}, err
		}
		fmt.Fprintf(out, "%s -> %s\n", q, r)
	}
	s, err := keepalive.Get(conn.NetConn())
	if err != nil {
		return s, err
	}
	fmt.Fprintf(out, "connection %s -> %s\n  kernel holds: %s\n", conn.NetConn().LocalAddr(), addr, describe(s))
	return s, nil
}

// describe says what s holds and what it means for a vanished server.
func describe(s keepalive.State) string {
	if !s.Enabled {
		return "keepalive off: a vanished server is never noticed while the connection is idle"
	}
	return fmt.Sprintf("keepalive on, idle %v, interval %v, count %d, user timeout %v: a vanished server is noticed within %v",
		s.Config.Idle, s.Config.Interval, s.Config.Count, s.Config.UserTimeout, s.DetectionBound())
}

// DriverConfig is the driver's connection config. Like pgconn.Config or
// redis.Options, it takes a dial func; nil means a plain net.Dialer.
type DriverConfig struct {
	Addr     string
	DialFunc DialFunc
}

// Conn is one connection of the driver.
type Conn struct {
	mu sync.Mutex
	nc net.Conn
	r  *bufio.Reader
}

// Connect opens a connection, as a driver's connect step does: through the
// dial func it was given, then a handshake.
func Connect(ctx context.Context, cfg DriverConfig) (*Conn, error) {
	dial := cfg.DialFunc
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	nc, err := dial(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	c := &Conn{nc: nc, r: bufio.NewReader(nc)}
	if _, err := c.Query(ctx, "PING"); err != nil {
		nc.Close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	return c, nil
}

// Query sends one line and returns the one-line answer. ctx's deadline, if
// any, bounds the round trip.
func (c *Conn) Query(ctx context.Context, q string) (string, error) {
	if strings.ContainsAny(q, "\r\n") {
		return "", errors.New("query has a line break")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	deadline, _ := ctx.Deadline()
	if err := c.nc.SetDeadline(deadline); err != nil {
		return "", err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := io.WriteString(c.nc, q+"\n"); err != nil {
		return "", err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", err
	}
	line = strings.TrimSuffix(line, "\n")
	if msg, ok := strings.CutPrefix(line, "ERR "); ok {
		return "", errors.New(msg)
	}
	return line, nil
}

// NetConn returns the network connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// serve is the database: it answers PING with PONG and ECHO text with text,
// one line each, until ln is closed.
func serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			sc := bufio.NewScanner(c)
			for sc.Scan() {
				cmd, arg, _ := strings.Cut(sc.Text(), " ")
				var answer string
				switch cmd {
				case "PING":
					answer = "PONG"
				case "ECHO":
					answer = arg
				default:
					answer = "ERR unknown command " + cmd
				}
				if _, err := io.WriteString(c, answer+"\n"); err != nil {
					return
				}
			}
		}()
	}
}
