package main

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/examples/internal/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

type pool struct{ *redis.Client }

func (p pool) Query(ctx context.Context) error { return p.Ping(ctx).Err() }

// Slow blocks on a list that nobody pushes to, for 10 s.
func (p pool) Slow(ctx context.Context) error {
	return p.BLPop(ctx, 10*time.Second, "keepalive-test-empty").Err()
}

var driver = dbtest.Driver{
	Name:    "go-redis",
	Service: dbtest.Redis,
	Open: func(t *testing.T, addr string, cfg *keepalive.Config, wrap func(dbtest.DialFunc) dbtest.DialFunc) dbtest.Pool {
		opt, err := options(addr, cfg)
		require.NoError(t, err)
		opt.Dialer = wrap(opt.Dialer)
		opt.PoolSize, opt.MaxRetries = 1, -1
		// go-redis's own read and write timeouts (3 s by default) would
		// end the wait before the kernel does: measure the kernel, and
		// let the context end the wait with Go's defaults.
		opt.ReadTimeout, opt.WriteTimeout, opt.ContextTimeoutEnabled = -1, -1, true
		return pool{redis.NewClient(opt)}
	},
}

func TestVanishingServer(t *testing.T) {
	t.Parallel()
	cfg, err := keepalive.Within(3 * time.Second)
	require.NoError(t, err)
	dbtest.Run(t, driver, cfg)
}

func TestRun(t *testing.T) {
	addr := dbtest.Server(t, dbtest.Redis)
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-addr", addr, "-within", "1m"}, &out))
	require.Contains(t, out.String(), "PONG from "+addr)
	require.Contains(t, out.String(), "holds: keepalive true, idle 30s, interval 10s, count 3, user timeout 1m0s")
}
