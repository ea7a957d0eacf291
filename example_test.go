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
	"os"
	"syscall"
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

// Control fits a Dialer's or ListenConfig's Control field; KeepAlive -1
// stops Go from overwriting the Config with its own 15 s after connecting.
func ExampleConfig_Control() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()

	cfg := keepalive.Config{Idle: 20 * time.Second, Interval: 4 * time.Second, Count: 5}
	d := net.Dialer{Control: cfg.Control, KeepAlive: -1}
	conn, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	s, _ := keepalive.Get(conn)
	fmt.Printf("%+v\n", s.Config)
	// Output: {Idle:20s Interval:4s Count:5 UserTimeout:0s}
}

// ApplyRawConn configures a socket known only by its syscall.RawConn.
func ExampleConfig_ApplyRawConn() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	rc, err := conn.(syscall.Conn).SyscallConn()
	if err != nil {
		log.Fatal(err)
	}
	cfg := keepalive.Config{Idle: 12 * time.Second, Interval: 3 * time.Second, Count: 4}
	if err := cfg.ApplyRawConn(rc); err != nil {
		log.Fatal(err)
	}
	s, _ := keepalive.Get(conn)
	fmt.Println(s.Enabled, s.DetectionBound())
	// Output: true 24s
}

// ListenConfig configures the listening socket; on Linux every accepted
// connection inherits the settings, with no system call of its own.
func ExampleConfig_ListenConfig() {
	cfg := keepalive.Config{Idle: 25 * time.Second, Interval: 5 * time.Second, Count: 3}
	lc, err := cfg.ListenConfig(nil)
	if err != nil {
		log.Fatal(err) // an *UnsupportedError comes with a working lc
	}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()

	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
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
	// Output: {Enabled:true Config:{Idle:25s Interval:5s Count:3 UserTimeout:0s} Unknown:none}
}

// Listener wraps a listener made elsewhere, here net.Listen's, whose
// accepted connections Go would otherwise give its own 15 s default.
func ExampleConfig_Listener() {
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	cfg := keepalive.Config{Idle: 40 * time.Second, Interval: 10 * time.Second, Count: 2}
	ln, err := cfg.Listener(plain)
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()

	go func() {
		if c, err := net.Dial("tcp", plain.Addr().String()); err == nil {
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
	fmt.Println(s.Config.Idle, s.Config.Interval, s.Config.Count)
	// Output: 40s 10s 2
}

// Disable switches the probes off and keeps the timings, so that a zero
// Config switches them back on unchanged.
func ExampleDisable() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	_ = keepalive.Config{Idle: 8 * time.Second, Interval: 2 * time.Second, Count: 3}.Apply(conn)
	if err := keepalive.Disable(conn); err != nil {
		log.Fatal(err)
	}
	s, _ := keepalive.Get(conn)
	fmt.Println(s.Enabled, s.Config.Idle, s.DetectionBound())
	_ = keepalive.Config{}.Apply(conn)
	s, _ = keepalive.Get(conn)
	fmt.Println(s.Enabled, s.Config.Idle, s.DetectionBound())
	// Output:
	// false 8s 0s
	// true 8s 14s
}

// KeepAliveConfig and FromKeepAliveConfig convert to and from Go's own
// type; a field left alone is 0 in a Config and -1 in Go's.
func ExampleConfig_KeepAliveConfig() {
	k := keepalive.Config{Idle: 30 * time.Second, Count: 3}.KeepAliveConfig()
	fmt.Printf("%+v\n", k)
	fmt.Printf("%+v\n", keepalive.FromKeepAliveConfig(k))
	// Go fills a zero field with its defaults, and so does the Config.
	fmt.Printf("%+v\n", keepalive.FromKeepAliveConfig(net.KeepAliveConfig{Enable: true}))
	// Output:
	// {Enable:true Idle:30s Interval:-1ns Count:3}
	// {Idle:30s Interval:0s Count:3 UserTimeout:0s}
	// {Idle:15s Interval:15s Count:9 UserTimeout:0s}
}

// SystemDefaults are what a socket that nothing configured holds, and
// what Get reads on a fresh one.
func ExampleSystemDefaults() {
	def, err := keepalive.SystemDefaults()
	if err != nil {
		log.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	conn, err := (&net.Dialer{KeepAlive: -1}).Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	s, _ := keepalive.Get(conn)
	fmt.Println(s.Enabled, s.Config == def)
	// Output: false true
}

// A deadline is not a dead peer: IsDeadPeer is false for it, and for a
// dial that never connected.
func ExampleIsDeadPeer_deadline() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, err = conn.Read(make([]byte, 1))
	fmt.Println(errors.Is(err, os.ErrDeadlineExceeded), keepalive.IsDeadPeer(err))

	addr := ln.Addr().String()
	ln.Close()
	_, err = net.Dial("tcp", addr)
	fmt.Println(err != nil, keepalive.IsDeadPeer(err))
	// Output:
	// true false
	// true false
}
