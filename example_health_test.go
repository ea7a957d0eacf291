//go:build linux

package keepalive_test

import (
	"fmt"
	"log"
	"net"

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
	fmt.Println("unanswered probes:", h.Probes, "unacknowledged bytes:", h.Unacked)
	fmt.Println("reported:", h.Known)
	// Output:
	// ESTABLISHED
	// unanswered probes: 0 unacknowledged bytes: 0
	// reported: State, Probes, Retransmits, Backoff, RTO, Unacked, NotSent, SendWindow, SinceReceived, SinceSent, RTT
}
