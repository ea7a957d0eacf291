//go:build linux

package keepalive_test

import (
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"github.com/go-keepalive/keepalive"
)

// Inspect reads what the kernel knows about a connection now. Known says
// which fields this OS reported: a field it does not report is never a
// silent zero.
func ExampleInspect() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	h, err := keepalive.Inspect(conn)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(h.State)
	fmt.Println("unanswered probes:", h.Probes, "unacknowledged bytes:", h.UnackedBytes)
	fmt.Println("reported:", h.Known)
	// Output:
	// ESTABLISHED
	// unanswered probes: 0 unacknowledged bytes: 0
	// reported: State, Probes, Retransmits, Backoff, RTO, UnackedBytes, NotSentBytes, SendWindow, SinceReceived, SinceSent, RTT
}

// Predict says when the kernel will drop a connection if nothing more
// arrives from the peer, from what Inspect and Get read.
func ExampleHealth_Predict() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	cfg := keepalive.Config{Idle: 10 * time.Second, Interval: 5 * time.Second, Count: 3}
	if err := cfg.Apply(conn); err != nil {
		log.Fatal(err)
	}

	state, err := keepalive.Get(conn)
	if err != nil {
		log.Fatal(err)
	}
	h, err := keepalive.Inspect(conn)
	if err != nil {
		log.Fatal(err)
	}
	p := h.Predict(state)
	if !p.Known {
		log.Fatal(p)
	}
	fmt.Printf("if the peer went quiet now: dead in %v, %v\n", p.In.Round(time.Second), p.By)
	// Output:
	// if the peer went quiet now: dead in 25s, keepalive probes unanswered
}

// Diagnose says why a connection failed, from the error and what the
// kernel still reports on the socket: call it before Close.
func ExampleDiagnose() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	peer, err := ln.Accept()
	if err != nil {
		log.Fatal(err)
	}
	peer.Close()

	_, err = conn.Read(make([]byte, 1))
	fmt.Println(err)
	fmt.Println(keepalive.Diagnose(conn, err))
	// Output:
	// EOF
	// closed normally
}

// Known says which fields this OS reported; Has asks for several at once.
func ExampleMetrics() {
	h := keepalive.Health{Known: keepalive.MetricState | keepalive.MetricRTT}
	fmt.Println(h.Known)
	fmt.Println(h.Has(keepalive.MetricState), h.Has(keepalive.MetricState|keepalive.MetricProbes))
	// Output:
	// State, RTT
	// true false
}

// A socket the kernel dropped can still be inspected until it is closed:
// its state and counters say why it died, even when the error said only
// io.EOF because another call got the real one first.
func ExampleHealth_Diagnose() {
	dropped := keepalive.Health{
		State:  keepalive.StateClosed,
		Probes: 2,
		Known:  keepalive.MetricState | keepalive.MetricProbes | keepalive.MetricSendWindow,
		// The peer's window was open: not a zero-window stall.
		SendWindow: 65483,
	}
	fmt.Println(dropped.Diagnose(io.EOF))
	// Output:
	// keepalive probes unanswered
}
