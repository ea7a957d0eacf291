// Command libpq shows kernel keepalive for the pooled connections of
// database/sql with github.com/lib/pq, through the driver's Dialer hook
// (pq.Connector.Dialer), against a real PostgreSQL server.
//
//	go run ./examples/libpq -url postgres://postgres@127.0.0.1:5432/postgres
//	go run ./examples/libpq -within 30s     # the URL from $KEEPALIVE_POSTGRES_URL
//
// lib/pq has no keepalive settings of its own, and its default dialer is a
// plain net.Dialer: Go's 15 s idle, 15 s interval, 9 probes (2.5 minutes for
// an idle connection) and no user timeout. Its API does take a custom
// dialer: pq.NewConnector, then Connector.Dialer with a pq.Dialer (Dial and
// DialTimeout; DialContext is used when present), then sql.OpenDB. The
// program runs a query and prints what the kernel holds for the pooled
// connection, read back with keepalive.Get. See examples/dbdialer for why
// pools need this.
//
// With lib/pq the user timeout matters even more than elsewhere: when a
// query's context expires, lib/pq sends a cancel request on a new connection
// and goes on waiting for the server to answer on the old one, so a context
// deadline does not end a query whose server vanished. Only the kernel does:
// with UserTimeout, within it; with Go's defaults, after about 15 minutes of
// retransmissions.
//
//	connector, err := pq.NewConnector(url)
//	d, err := cfg.Dialer(&net.Dialer{Timeout: 5 * time.Second})
//	connector.Dialer(dialer{d.DialContext}) // Dial, DialTimeout and DialContext
//	db := sql.OpenDB(connector)
package main

import (
	"context"
	"database/sql"
	"io"
	"net"
	"time"

	"github.com/lib/pq"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/examples/internal/pooldemo"
)

func main() { pooldemo.Main("libpq", run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	url, cfg, err := pooldemo.Flags("libpq", "url", "KEEPALIVE_POSTGRES_URL", "PostgreSQL URL", args, out)
	if err != nil {
		return err
	}
	d, err := newDialer(&cfg)
	if err != nil {
		return err
	}
	var first pooldemo.First
	db, err := openDB(url, dialer{first.Wrap(d.dial)})
	if err != nil {
		return err
	}
	defer db.Close()
	var version string
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&version); err != nil {
		return err
	}
	return first.Report(out, "connected to "+version)
}

// dialer adapts a DialContext func to pq.Dialer and pq.DialerContext.
type dialer struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (d dialer) Dial(network, addr string) (net.Conn, error) {
	return d.dial(context.Background(), network, addr)
}

func (d dialer) DialTimeout(network, addr string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.dial(ctx, network, addr)
}

func (d dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return d.dial(ctx, network, addr)
}

// newDialer returns a dialer whose connections hold cfg. A nil cfg dials as
// lib/pq does by default (a plain net.Dialer), for contrast.
func newDialer(cfg *keepalive.Config) (dialer, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if cfg != nil {
		var err error
		if d, err = cfg.Dialer(d); err != nil {
			return dialer{}, err
		}
	}
	return dialer{d.DialContext}, nil
}

// openDB opens url with every connection dialed by d.
func openDB(url string, d pq.Dialer) (*sql.DB, error) {
	connector, err := pq.NewConnector(url)
	if err != nil {
		return nil, err
	}
	connector.Dialer(d)
	return sql.OpenDB(connector), nil
}
