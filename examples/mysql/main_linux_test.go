package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/examples/internal/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

type pool struct{ *sql.DB }

func (p pool) Query(ctx context.Context) error {
	var one int
	return p.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

func (p pool) Slow(ctx context.Context) error {
	_, err := p.ExecContext(ctx, "SELECT SLEEP(10)")
	return err
}

// networks numbers the dial registrations: the driver's registry is global.
var networks atomic.Int64

var driver = dbtest.Driver{
	Name:    "go-sql-driver/mysql",
	Service: dbtest.MariaDB,
	Open: func(t *testing.T, dsn string, cfg *keepalive.Config, wrap func(dbtest.DialFunc) dbtest.DialFunc) dbtest.Pool {
		dial, err := dialFunc(cfg)
		require.NoError(t, err)
		wrapped := wrap(func(ctx context.Context, _, addr string) (net.Conn, error) { return dial(ctx, addr) })
		network := fmt.Sprintf("tcp+test%d", networks.Add(1))
		db, err := openDB(dsn, network, func(ctx context.Context, addr string) (net.Conn, error) {
			return wrapped(ctx, "tcp", addr)
		})
		require.NoError(t, err)
		db.SetMaxOpenConns(1)
		return pool{db}
	},
}

func TestVanishingServer(t *testing.T) {
	t.Parallel()
	cfg, err := keepalive.Within(3 * time.Second)
	require.NoError(t, err)
	dbtest.Run(t, driver, cfg)
}

func TestRun(t *testing.T) {
	dsn := dbtest.Server(t, dbtest.MariaDB)
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-dsn", dsn, "-within", "1m"}, &out))
	require.Regexp(t, `connected to 10\.\d+\.\d+-MariaDB`, out.String())
	require.Contains(t, out.String(), "holds: keepalive true, idle 30s, interval 10s, count 3, user timeout 1m0s")
}
