// Command dbdialer shows kernel keepalive for the connections of a real
// database driver's pool: github.com/jackc/pgx/v5's pgxpool, through its
// custom dial hook (pgconn.Config.DialFunc), against PostgreSQL.
//
//	go run ./examples/dbdialer -url postgres://postgres@127.0.0.1:5432/postgres
//	go run ./examples/dbdialer -within 30s      # the URL from $KEEPALIVE_POSTGRES_URL
//
// The dial func comes from keepalive.Config.Dialer, so every connection the
// pool opens holds the Config, set before it connects. The program runs a
// query and prints what the kernel holds for the pooled connection, read
// back with keepalive.Get.
//
// Why: drivers keep connections in a pool for minutes or hours. When the
// database vanishes without a FIN or RST (failover to a replica, a host
// lost, a NAT or load-balancer entry expired), a pooled connection still
// looks fine. The next query's Write succeeds into the socket buffer and its
// Read waits for an answer that never comes, until a context deadline, if
// there is one, or until TCP gives up retransmitting, about 15 minutes on
// Linux. With keepalive the kernel drops the dead idle connection within
// Idle + Interval*Count: the next use fails at once, and the pool
// replaces the connection (pgxpool pings a connection idle for more than a
// second before handing it out, and database/sql retries on a new one when
// the driver reports a bad connection). UserTimeout covers a query whose
// server vanished while it was in flight: without it, keepalive sends no
// probes while data is unacknowledged. Probes after an idle time shorter
// than the network's idle timeout also keep NAT and load-balancer entries
// from expiring. keepalive.Within(d) derives all of it from one target:
// -within 1m gives 30 s idle, 10 s interval, 3 probes and a 1 minute user
// timeout.
//
// pgx's own default dialer is a plain net.Dialer: Go's 15 s idle, 15 s
// interval, 9 probes (2.5 minutes for an idle connection) and no user
// timeout. The test beside this file measures both against a real server
// that vanishes (see examples/internal/dbtest).
//
// The other drivers take the same dialer (examples/goredis, examples/mysql,
// examples/libpq):
//
//	d, err := cfg.Dialer(&net.Dialer{Timeout: 5 * time.Second})
//
//	// github.com/jackc/pgx/v5: set DialFunc after ParseConfig, which
//	// installs its own; the net.Dialer's Timeout then takes the place of
//	// connect_timeout.
//	pgcfg, err := pgxpool.ParseConfig(url)
//	pgcfg.ConnConfig.DialFunc = d.DialContext
package main

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/examples/internal/pooldemo"
)

func main() { pooldemo.Main("dbdialer", run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	url, cfg, err := pooldemo.Flags("dbdialer", "url", "KEEPALIVE_POSTGRES_URL", "PostgreSQL URL", args, out)
	if err != nil {
		return err
	}
	pcfg, err := poolConfig(url, &cfg)
	if err != nil {
		return err
	}
	var first pooldemo.First
	pcfg.ConnConfig.DialFunc = pgconn.DialFunc(first.Wrap(pooldemo.DialFunc(pcfg.ConnConfig.DialFunc)))
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	var version string
	if err := pool.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		return err
	}
	return first.Report(out, "connected to "+version)
}

// poolConfig parses url and makes every connection of the pool hold cfg. A
// nil cfg keeps pgx's own dialer (Go's defaults), for contrast.
func poolConfig(url string, cfg *keepalive.Config) (*pgxpool.Config, error) {
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		d, err := cfg.Dialer(&net.Dialer{Timeout: 5 * time.Second})
		if err != nil {
			return nil, err
		}
		pcfg.ConnConfig.DialFunc = d.DialContext
	}
	return pcfg, nil
}
