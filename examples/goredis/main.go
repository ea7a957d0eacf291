// Command goredis shows kernel keepalive for the pooled connections of
// github.com/redis/go-redis/v9, through its dial hook (Options.Dialer),
// against a real Redis server.
//
//	go run ./examples/goredis -addr 127.0.0.1:6379
//	go run ./examples/goredis -within 30s     # the address from $KEEPALIVE_REDIS_ADDR
//
// The dial func comes from keepalive.Config.Dialer, so every connection the
// pool opens holds the Config, set before it connects; the program sends a
// PING and prints what the kernel holds for the pooled connection, read back
// with keepalive.Get. See examples/dbdialer for why pools need this.
//
// go-redis's own dialer sets 30 s idle, 5 s interval and 3 probes (45 s for
// an idle connection) and no user timeout; its 3 s ReadTimeout ends a
// command whose server vanished, but also any reply slower than that. With
// a user timeout the kernel bounds a command in flight however long the
// command may legitimately take:
//
//	d, err := cfg.Dialer(&net.Dialer{Timeout: 5 * time.Second})
//	rdb := redis.NewClient(&redis.Options{Addr: addr, Dialer: d.DialContext})
package main

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/examples/internal/pooldemo"
)

func main() { pooldemo.Main("goredis", run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	addr, cfg, err := pooldemo.Flags("goredis", "addr", "KEEPALIVE_REDIS_ADDR", "Redis address", args, out)
	if err != nil {
		return err
	}
	opt, err := options(addr, &cfg)
	if err != nil {
		return err
	}
	var first pooldemo.First
	opt.Dialer = first.Wrap(opt.Dialer)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return err
	}
	return first.Report(out, "PONG from "+addr)
}

// options makes every pooled connection to addr hold cfg. A nil cfg keeps
// go-redis's own dialer, for contrast.
func options(addr string, cfg *keepalive.Config) (*redis.Options, error) {
	opt := &redis.Options{Addr: addr}
	if cfg == nil {
		opt.Dialer = redis.NewDialer(opt)
		return opt, nil
	}
	d, err := cfg.Dialer(&net.Dialer{Timeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	opt.Dialer = d.DialContext
	return opt, nil
}
