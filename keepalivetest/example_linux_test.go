//go:build linux

package keepalivetest_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/keepalivetest"
)

// dialLoopback returns a client connection dialed with d (or dialerErr,
// the error of making d) and the server's
// end of it, from a throwaway loopback listener.
func dialLoopback(d *net.Dialer, dialerErr error) (client, server net.Conn, err error) {
	if dialerErr != nil {
		return nil, nil, dialerErr
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	client, err = d.Dial("tcp4", ln.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	server, err = ln.Accept()
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	return client, server, nil
}

// A client makes its server vanish with Vanish on its own end, and measures
// its dead-peer detection against the bound. The server could be a database
// in another process: only the client's socket is touched.
func ExampleVanish() {
	cfg := keepalive.Config{Idle: time.Second, Interval: time.Second, Count: 1}
	client, server, err := dialLoopback(cfg.Dialer(nil))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	defer server.Close()

	start := time.Now()
	if err := keepalivetest.Vanish(client); err != nil {
		fmt.Println(err)
		return
	}
	_, err = client.Read(make([]byte, 1)) // blocks until the kernel gives up
	took := time.Since(start)

	bound, _ := cfg.DetectionBound() // 2s: Idle + Interval*Count
	fmt.Println("dead peer:", keepalive.IsDeadPeer(err))
	fmt.Println("within 1.15 times the bound:", took < bound*115/100)
	// Output:
	// dead peer: true
	// within 1.15 times the bound: true
}

// The server vanishes while the client writes, and comes back: the client's
// kernel retransmits what was lost, and the data arrives.
func ExampleReappear() {
	client, server, err := dialLoopback(&net.Dialer{}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	defer server.Close()

	if err := keepalivetest.Vanish(server); err != nil { // the server hears nothing
		fmt.Println(err)
		return
	}
	if _, err := client.Write([]byte("hello")); err != nil {
		fmt.Println(err)
		return
	}
	buf := make([]byte, 5)
	_ = server.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, err = server.Read(buf)
	fmt.Println("while vanished:", errors.Is(err, os.ErrDeadlineExceeded))

	if err := keepalivetest.Reappear(server); err != nil {
		fmt.Println(err)
		return
	}
	_ = server.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadFull(server, buf)
	fmt.Printf("after Reappear: %q %v\n", buf, err)
	// Output:
	// while vanished: true
	// after Reappear: "hello" <nil>
}

// The server's host "reboots": its kernel forgets the connection without a
// word, and answers the client's next segment with RST.
func ExampleReboot() {
	client, server, err := dialLoopback(&net.Dialer{}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	if err := keepalivetest.Reboot(server); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := client.Write([]byte("query")); err != nil {
		fmt.Println(err)
		return
	}
	_, err = client.Read(make([]byte, 1))
	fmt.Println("reset:", errors.Is(err, syscall.ECONNRESET))
	fmt.Println("dead peer:", keepalive.IsDeadPeer(err))
	// Output:
	// reset: true
	// dead peer: false
}

// A consumer stops reading: the writer's kernel sees a zero window, the
// reader's kernel answers every probe, and only the writer's UserTimeout
// ends the wait.
func ExampleStopReading() {
	cfg := keepalive.Config{Idle: time.Second, Interval: time.Second, Count: 1, UserTimeout: 2 * time.Second}
	writer, reader, err := dialLoopback(cfg.Dialer(nil))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer writer.Close()
	defer reader.Close()

	if err := keepalivetest.StopReading(reader); err != nil {
		fmt.Println(err)
		return
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err = writer.Write(buf); err != nil {
			break
		}
	}
	fmt.Println("dead peer:", keepalive.IsDeadPeer(err))
	// Output:
	// dead peer: true
}

// A dead-peer test that runs as root directly, and re-runs itself in a
// user+network namespace for everyone else.
func ExampleRunIsolated() {
	testDeadPeer := func(t *testing.T) {
		t.Parallel()
		if keepalivetest.RunIsolated(t) {
			return // it already ran, in a namespace
		}
		client, _ := keepalivetest.Pair(t)
		cfg := keepalive.Config{Idle: time.Second, Interval: time.Second, Count: 2}
		if err := cfg.Apply(client); err != nil {
			t.Fatal(err)
		}
		if err := keepalivetest.Vanish(client); err != nil {
			t.Fatal(err)
		}
		_, err := client.Read(make([]byte, 1))
		if !keepalive.IsDeadPeer(err) {
			t.Fatalf("Read: %v, want a dead peer", err)
		}
	}
	_ = testDeadPeer // func TestDeadPeer(t *testing.T) in a _test.go file
}

// A test binary whose TestMain re-runs itself in a user+network namespace
// when it lacks CAP_NET_ADMIN, so that its examples and tests all can
// inject faults, unprivileged too.
func ExampleIsolateProcess() {
	testMain := func(m *testing.M) {
		if err := keepalivetest.IsolateProcess(); err != nil {
			// Neither root nor a namespace: the faults cannot work here.
			fmt.Fprintln(os.Stderr, "cannot inject faults:", err)
			os.Exit(1)
		}
		os.Exit(m.Run()) // as root directly, else inside the namespace
	}
	_ = testMain // func TestMain(m *testing.M) in a _test.go file
}
