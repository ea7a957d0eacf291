//go:build linux

package keepalive_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/go-keepalive/keepalive"
)

// Apply after Dial (or Accept), then read back what the kernel holds.
func ExampleConfig_Apply() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	cfg := keepalive.Config{Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3}
	if err := cfg.Apply(conn); err != nil {
		log.Fatal(err)
	}
	s, err := keepalive.Get(conn)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("enabled=%v idle=%v interval=%v count=%d unknown=%v\n", s.Enabled, s.Config.Idle, s.Config.Interval, s.Config.Count, s.Unknown)
	fmt.Println("a dead peer is detected within", s.DetectionBound())
	// Output:
	// enabled=true idle=30s interval=10s count=3 unknown=none
	// a dead peer is detected within 1m0s
}

// Within turns a detection target into a Config, UserTimeout included, so
// that a peer that vanishes mid-write is caught within the same time.
func ExampleWithin() {
	cfg, err := keepalive.Within(time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", cfg)
	bound, err := cfg.DetectionBound()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bound)
	// Output:
	// {Idle:30s Interval:10s Count:3 UserTimeout:1m0s}
	// 1m0s
}

// An invalid Config is refused before the socket is touched, with an error
// that names the option, the value and the limit.
func ExampleConfig_Validate() {
	err := keepalive.Config{Idle: 10 * time.Second, Count: 200}.Validate()
	fmt.Println(err)
	fmt.Println(errors.Is(err, keepalive.ErrOutOfRange))
	// Output:
	// keepalive: Count=200 out of range for TCP_KEEPCNT on linux (1..127)
	// true
}

// DetectionBound says how long a vanished idle peer goes unnoticed. An
// invalid Config has no bound: the error says why.
func ExampleConfig_DetectionBound() {
	bound, err := keepalive.Config{Idle: 10 * time.Second, Interval: 5 * time.Second, Count: 3}.DetectionBound()
	fmt.Println(bound, err)
	_, err = keepalive.Config{Idle: 10 * time.Second, Interval: 5 * time.Second, Count: 200}.DetectionBound()
	fmt.Println(err)
	// Output:
	// 25s <nil>
	// keepalive: Count=200 out of range for TCP_KEEPCNT on linux (1..127)
}

// A Dialer applies the Config to every connection it makes; here inside an
// HTTP client.
func ExampleConfig_Dialer() {
	cfg := keepalive.Config{Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}
	d, err := cfg.Dialer(&net.Dialer{Timeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err) // validated when built
	}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	_ = client

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	conn, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	s, _ := keepalive.Get(conn)
	fmt.Println(s.Config.Idle, s.Config.Interval, s.Config.Count)
	// Output: 15s 5s 3
}

// Listen configures the listening socket once; accepted connections
// inherit the settings, with no system call of their own.
func ExampleConfig_Listen() {
	cfg := keepalive.Config{Idle: 20 * time.Second, Interval: 5 * time.Second, Count: 4, UserTimeout: 40 * time.Second}
	ln, err := cfg.Listen(context.Background(), nil, "tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()

	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	conn, err := ln.Accept()
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	s, _ := keepalive.Get(conn)
	fmt.Printf("%+v\n", s)
	// Output: {Enabled:true Config:{Idle:20s Interval:5s Count:4 UserTimeout:40s} Unknown:none}
}

// IsDeadPeer tells a connection the kernel dropped because the peer stopped
// answering from one that hit its own deadline, on every OS.
func ExampleIsDeadPeer() {
	handle := func(conn net.Conn) {
		buf := make([]byte, 4096)
		for {
			_, err := conn.Read(buf)
			switch {
			case err == nil:
				continue
			case keepalive.IsDeadPeer(err):
				log.Printf("%v vanished: %v", conn.RemoteAddr(), err)
			case errors.Is(err, io.EOF):
				log.Printf("%v closed the connection", conn.RemoteAddr())
			}
			conn.Close()
			return
		}
	}
	_ = handle
}

// An *UnsupportedError is a shortfall that was tolerated: keepalive is on
// with every field it names as Set, and the caller decides whether the rest
// matters. Here UserTimeout may be missing (it is, on FreeBSD before 14, or on
// a Linux MPTCP connection); the connection is still used.
func ExampleUnsupportedError() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	cfg := keepalive.Config{Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3, UserTimeout: time.Minute}
	var short *keepalive.UnsupportedError
	switch err := cfg.Apply(conn); {
	case err == nil:
		fmt.Println("all set")
	case errors.As(err, &short) && short.Missing == keepalive.FieldUserTimeout:
		fmt.Println("keepalive on; no user timeout here:", short.Set)
	default:
		log.Fatal(err)
	}
	// Output: all set
}

// Fields name Config fields; State.Unknown and UnsupportedError use them.
func ExampleFields() {
	fmt.Println(keepalive.FieldIdle | keepalive.FieldCount)
	fmt.Println(keepalive.Fields(0))
	// Output:
	// Idle, Count
	// none
}
