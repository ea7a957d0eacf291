// Command acceptbench serves the same net/http "hello" handler on three
// listeners, to measure what the listener helpers cost per accepted
// connection against Go's default:
//
//   - plain: net.Listen, where Go turns keepalive on for every accepted
//     connection with its 15 s default (four setsockopt calls each);
//   - helper: Config{Idle: 30s, Interval: 10s, Count: 3}.Listen, which
//     configures the listening socket once; Linux copies the settings to
//     every accepted socket, so accepting costs no system call of its own;
//   - wrapped: net.Listen wrapped with Config.Listener, the helper for a
//     listener made elsewhere: Go's default, then the Config, on every
//     accepted connection.
//
// scripts/accept-overhead.sh puts wrk in front of it, a new connection per
// request, alternating between them.
//
//	acceptbench [-plain 127.0.0.1:0] [-helper 127.0.0.1:0] [-wrapped 127.0.0.1:0] [-max-life 10m]
//
// Once all three listen it prints one line per listener on stdout, "plain
// URL", "helper URL" and "wrapped URL", then serves until it is killed, its
// parent exits, or -max-life passes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/internal/lifeline"
)

// cfg is what the helper listener applies.
var cfg = keepalive.Config{Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3}

func main() {
	plainAddr := flag.String("plain", "127.0.0.1:0", "address for the net.Listen listener")
	helperAddr := flag.String("helper", "127.0.0.1:0", "address for the Config.Listen listener")
	wrappedAddr := flag.String("wrapped", "127.0.0.1:0", "address for the net.Listen listener wrapped with Config.Listener")
	maxLife := flag.Duration("max-life", 10*time.Minute, "exit after this long in any case")
	flag.Parse()
	log.SetPrefix("acceptbench: ")
	log.SetFlags(0)

	lns, err := listen(context.Background(), *plainAddr, *helperAddr, *wrappedAddr)
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range lns {
		fmt.Printf("%s http://%s/\n", l.name, l.Addr())
	}
	go lifeline.ExitWithParent(*maxLife)

	srv := newServer()
	errc := make(chan error, len(lns))
	for _, l := range lns {
		go func() { errc <- srv.Serve(l) }()
	}
	log.Fatal(<-errc)
}

type namedListener struct {
	name string
	net.Listener
}

// listen opens the three listeners: plain, helper, wrapped.
func listen(ctx context.Context, plainAddr, helperAddr, wrappedAddr string) ([]namedListener, error) {
	plain, err := net.Listen("tcp", plainAddr)
	if err != nil {
		return nil, err
	}
	helper, err := cfg.Listen(ctx, nil, "tcp", helperAddr)
	if err != nil {
		plain.Close()
		return nil, err
	}
	wrapped, err := net.Listen("tcp", wrappedAddr)
	if err != nil {
		plain.Close()
		helper.Close()
		return nil, err
	}
	wrapper, err := cfg.Listener(wrapped)
	if err != nil {
		plain.Close()
		helper.Close()
		wrapped.Close()
		return nil, err
	}
	return []namedListener{{"plain", plain}, {"helper", helper}, {"wrapped", wrapper}}, nil
}

// newServer answers every request with "hello".
func newServer() *http.Server {
	return &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "hello\n")
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
}
