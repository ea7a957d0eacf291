package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
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
	_, err := p.ExecContext(ctx, "SELECT pg_sleep(10)")
	return err
}

var driver = dbtest.Driver{
	Name:    "lib/pq",
	Service: dbtest.Postgres,
	Open: func(t *testing.T, url string, cfg *keepalive.Config, wrap func(dbtest.DialFunc) dbtest.DialFunc) dbtest.Pool {
		d, err := newDialer(cfg)
		require.NoError(t, err)
		db, err := openDB(url, dialer{wrap(d.dial)})
		require.NoError(t, err)
		db.SetMaxOpenConns(1)
		return pool{db}
	},
	CancelWaitsForServer: true,
}

func TestVanishingServer(t *testing.T) {
	t.Parallel()
	cfg, err := keepalive.Within(3 * time.Second)
	require.NoError(t, err)
	dbtest.Run(t, driver, cfg)
}

func TestRun(t *testing.T) {
	url := dbtest.Server(t, dbtest.Postgres)
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-url", url, "-within", "1m"}, &out))
	require.Regexp(t, `connected to PostgreSQL 1\d`, out.String())
	require.Contains(t, out.String(), "holds: keepalive true, idle 30s, interval 10s, count 3, user timeout 1m0s")
}
