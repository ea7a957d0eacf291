// Command mysql shows kernel keepalive for the pooled connections of
// database/sql with github.com/go-sql-driver/mysql, through the driver's
// dial registry (mysql.RegisterDialContext), against a real MariaDB or
// MySQL server.
//
//	go run ./examples/mysql -dsn 'user:password@tcp(127.0.0.1:3306)/db'
//	go run ./examples/mysql -within 30s     # the DSN from $KEEPALIVE_MYSQL_DSN
//
// The driver has no keepalive settings of its own: it dials with a plain
// net.Dialer and switches keepalive on afterwards, so a connection gets Go's
// 15 s idle, 15 s interval, 9 probes (2.5 minutes for an idle connection)
// and no user timeout. A dial func registered under a network name, which
// the DSN then names instead of "tcp", replaces the dialing; the driver's
// SetKeepAlive(true) afterwards leaves the timings alone. The program runs a
// query and prints what the kernel holds for the pooled connection, read
// back with keepalive.Get. See examples/dbdialer for why pools need this.
//
//	d, err := cfg.Dialer(&net.Dialer{Timeout: 5 * time.Second})
//	mysql.RegisterDialContext("tcp+keepalive", func(ctx context.Context, addr string) (net.Conn, error) {
//		return d.DialContext(ctx, "tcp", addr)
//	})
//	db, err := sql.Open("mysql", "user:password@tcp+keepalive(127.0.0.1:3306)/db")
package main

import (
	"context"
	"database/sql"
	"io"
	"net"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/examples/internal/pooldemo"
)

func main() { pooldemo.Main("mysql", run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	dsn, cfg, err := pooldemo.Flags("mysql", "dsn", "KEEPALIVE_MYSQL_DSN", "data source name", args, out)
	if err != nil {
		return err
	}
	dial, err := dialFunc(&cfg)
	if err != nil {
		return err
	}
	var first pooldemo.First
	kept := first.Wrap(func(ctx context.Context, _, addr string) (net.Conn, error) { return dial(ctx, addr) })
	db, err := openDB(dsn, "tcp+keepalive", func(ctx context.Context, addr string) (net.Conn, error) {
		return kept(ctx, "tcp", addr)
	})
	if err != nil {
		return err
	}
	defer db.Close()
	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return err
	}
	return first.Report(out, "connected to "+version)
}

// dialFunc returns a dial func for mysql.RegisterDialContext whose
// connections hold cfg. A nil cfg dials as the driver does by default (a
// plain net.Dialer), for contrast.
func dialFunc(cfg *keepalive.Config) (mysql.DialContextFunc, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if cfg != nil {
		var err error
		if d, err = cfg.Dialer(d); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, addr string) (net.Conn, error) {
		return d.DialContext(ctx, "tcp", addr)
	}, nil
}

// openDB registers dial under network and opens dsn over it.
func openDB(dsn, network string, dial mysql.DialContextFunc) (*sql.DB, error) {
	mcfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	mysql.RegisterDialContext(network, dial)
	mcfg.Net = network
	conn, err := mysql.NewConnector(mcfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}
