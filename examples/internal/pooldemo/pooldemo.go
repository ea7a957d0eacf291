// Package pooldemo is what the database driver examples share as programs:
// their flags, the capture of the first connection a pool dials, and the
// line that says what the kernel holds for it.
package pooldemo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"time"

	"github.com/go-keepalive/keepalive"
)

// Main runs run with the program's arguments, cancelled on interrupt, and
// exits with status 1 and the error if it fails.
func Main(name string, run func(ctx context.Context, args []string, out io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Flags parses a flag naming the server (-addr, -url, -dsn), whose default
// comes from the environment variable env, and -within, and returns the
// server and the Config that detects its vanishing within that long.
func Flags(name, serverFlag, env, usage string, args []string, out io.Writer) (string, keepalive.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	server := fs.String(serverFlag, os.Getenv(env), fmt.Sprintf("%s (default $%s)", usage, env))
	within := fs.Duration("within", 30*time.Second, "detect a vanished server within this long")
	if err := fs.Parse(args); err != nil {
		return "", keepalive.Config{}, err
	}
	if *server == "" {
		return "", keepalive.Config{}, fmt.Errorf("no -%s and no $%s", serverFlag, env)
	}
	cfg, err := keepalive.Within(*within)
	return *server, cfg, err
}

// DialFunc is the shape of net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// First keeps the first connection a dial func returns.
type First struct{ conns chan net.Conn }

// Wrap returns dial, keeping its first connection.
func (f *First) Wrap(dial DialFunc) DialFunc {
	if f.conns == nil {
		f.conns = make(chan net.Conn, 1)
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err == nil {
			select {
			case f.conns <- c:
			default:
			}
		}
		return c, err
	}
}

// Report prints that the server answered and what the kernel holds for the
// first connection dialed, read back with keepalive.Get.
func (f *First) Report(out io.Writer, answer string) error {
	var conn net.Conn
	select {
	case conn = <-f.conns:
	default:
		return errors.New("the pool dialed no connection")
	}
	state, err := keepalive.Get(conn)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, answer)
	fmt.Fprintf(out, "pooled connection %s holds: keepalive %v, idle %v, interval %v, count %d, user timeout %v\n",
		conn.LocalAddr(), state.Enabled, state.Config.Idle, state.Config.Interval, state.Config.Count, state.Config.UserTimeout)
	return nil
}
