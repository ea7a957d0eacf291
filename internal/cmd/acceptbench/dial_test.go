package main

import (
	"net"
	"testing"
)

// BenchmarkDial compares a plain net.Dialer (Go's 15 s keepalive, set after
// connecting) with cfg.Dialer (cfg set before connecting), one loopback
// connection per iteration:
//
//	go test -run '^$' -bench Dial -count 10 ./internal/cmd/acceptbench > dial.txt
//	benchstat -col /impl dial.txt   # net is the baseline
//
// The client closes each connection with SO_LINGER 0 (a RST), the same for
// both, so that TIME_WAIT does not use up the ephemeral ports.
func BenchmarkDial(b *testing.B) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	d, err := cfg.Dialer(&net.Dialer{})
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	for _, bc := range []struct {
		name string
		d    *net.Dialer
	}{
		{"impl=net", &net.Dialer{}},
		{"impl=keepalive", d},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c, err := bc.d.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				_ = c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}
		})
	}
}
