//go:build !js

package keepalivews_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/go-keepalive/keepalive/keepalivews"
)

// A budget of 30 s: kernel keepalive and WebSocket pings each detect a
// vanished peer within it.
func ExampleWithin() {
	b, err := keepalivews.Within(30 * time.Second)
	if err != nil {
		log.Fatal(err)
	}
	bound, err := b.TCP.DetectionBound()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("kernel keepalive detects within the budget:", bound <= b.Within)
	fmt.Printf("WebSocket: ping %v after the last pong, close if the next takes over %v\n", b.PingInterval, b.PingTimeout)
	// Output:
	// kernel keepalive detects within the budget: true
	// WebSocket: ping 15s after the last pong, close if the next takes over 15s
}

// A server and a client on one budget: kernel keepalive on both ends of
// the connection, and each end pings the other while it reads.
func ExampleBudget_Ping() {
	ctx := context.Background()
	b, err := keepalivews.Within(30 * time.Second)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := b.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		go func() { _ = b.Ping(r.Context(), c) }()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, msg); err != nil {
				return
			}
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	opts, err := b.DialOptions(nil)
	if err != nil {
		log.Fatal(err)
	}
	c, _, err := websocket.Dial(ctx, "ws://"+ln.Addr().String()+"/", opts)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	pingCtx, stopPing := context.WithCancel(ctx)
	defer stopPing()
	go func() { _ = b.Ping(pingCtx, c) }()

	if err := c.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	_, msg, err := c.Read(ctx) // reading also takes in the pongs
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(msg))
	// Output: hello
}
