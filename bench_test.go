//go:build linux

package keepalive

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// The benchmarks compare this package with Go's own
// (*net.TCPConn).SetKeepAliveConfig for the same values, side by side in
// one run:
//
//	go test -run '^$' -bench 'Apply|Get' -benchmem -count 10 . > bench.txt
//	benchstat -col /impl bench.txt   # net is the baseline
//
// impl=keepalive-tls applies through a *tls.Conn, which Apply unwraps to
// the same path as a *net.TCPConn: the same cost, no allocation.

var benchCfg = Config{Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3}

func BenchmarkApply(b *testing.B) {
	c, _ := pair(b)
	b.Run("impl=net", func(b *testing.B) {
		k := net.KeepAliveConfig{Enable: true, Idle: benchCfg.Idle, Interval: benchCfg.Interval, Count: benchCfg.Count}
		b.ReportAllocs()
		for b.Loop() {
			if err := c.SetKeepAliveConfig(k); err != nil {
				b.Fatal(err)
			}
		}
	})
	for name, conn := range map[string]net.Conn{"keepalive": c, "keepalive-tls": tls.Client(c, &tls.Config{})} {
		b.Run("impl="+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := benchCfg.Apply(conn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	c, _ := pair(b)
	for name, conn := range map[string]net.Conn{"keepalive": c, "keepalive-tls": tls.Client(c, &tls.Config{})} {
		b.Run("impl="+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Get(conn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
