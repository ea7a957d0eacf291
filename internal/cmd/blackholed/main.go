// Command blackholed is a TCP peer that vanishes. It accepts connections and
// attaches a drop-all socket filter to each ([keepalivetest.Vanish]), so that it
// never answers again, not even keepalive probes, and sends neither FIN nor
// RST: to the other end it is a peer whose cable was pulled. The Windows
// tests, run under Wine on the same Linux host, use it to see keepalive
// detect a dead peer (.ci/windows-tests.sh).
//
//	blackholed [-listen 127.0.0.1:0] [-max-life 10m]
//
// Once ready it prints the address it listens on as one line on stdout. It
// runs until it is killed, its parent exits, or -max-life passes. It needs
// Linux and CAP_NET_ADMIN; without them it exits with status 1 saying why.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/go-keepalive/keepalive/internal/lifeline"
	"github.com/go-keepalive/keepalive/keepalivetest"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on")
	maxLife := flag.Duration("max-life", 10*time.Minute, "exit after this long in any case")
	flag.Parse()
	log.SetPrefix("blackholed: ")
	log.SetFlags(0)

	if err := keepalivetest.Check(); err != nil {
		log.Fatalf("cannot black-hole sockets here: %v", err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr())
	go lifeline.ExitWithParent(*maxLife)

	// Accepted connections stay referenced until exit: a collected
	// *net.TCPConn would be closed by its finalizer, sending FIN.
	var conns []net.Conn
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		conns = append(conns, c)
		if err := keepalivetest.Vanish(c.(*net.TCPConn)); err != nil {
			log.Printf("%v: %v", c.RemoteAddr(), err)
			c.Close()
			continue
		}
		log.Printf("%v: connected, now dropping everything it sends (%d so far)", c.RemoteAddr(), len(conns))
	}
}
