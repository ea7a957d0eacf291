package keepalivehttp_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/go-keepalive/keepalive/keepalivehttp"
)

// A budget of 30 s: kernel keepalive and HTTP/2 PINGs each detect a
// vanished peer within it.
func ExampleWithin() {
	b, err := keepalivehttp.Within(30 * time.Second)
	if err != nil {
		log.Fatal(err)
	}
	bound, err := b.TCP.DetectionBound()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("kernel keepalive detects within the budget:", bound <= b.Within)
	fmt.Printf("HTTP/2: PING after %v without a frame, close if unanswered for %v\n", b.PingAfter, b.PingTimeout)
	// Output:
	// kernel keepalive detects within the budget: true
	// HTTP/2: PING after 15s without a frame, close if unanswered for 15s
}

// A server and a client on one budget: the listener and the Transport put
// kernel keepalive on every connection, and both ends send HTTP/2 PINGs
// (here over cleartext HTTP/2).
func ExampleBudget_Transport() {
	b, err := keepalivehttp.Within(30 * time.Second)
	if err != nil {
		log.Fatal(err)
	}
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)

	ln, err := b.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h2, err := b.HTTP2Config(nil)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Protocols: &h2c, HTTP2: h2, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	tr, err := b.Transport(&http.Transport{Protocols: &h2c})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr}).Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Proto, resp.Status)
	// Output: HTTP/2.0 200 OK
}
