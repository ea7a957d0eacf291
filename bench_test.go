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

// BenchmarkApplyRatio times Apply and SetKeepAliveConfig in alternating
// blocks on one socket, so that the load of a shared machine falls on both
// alike, and reports keepalive's time over Go's as x-net (below 1: faster).
// ns/op is the time of one block of each.
func BenchmarkApplyRatio(b *testing.B) {
	c, _ := pair(b)
	tc := tls.Client(c, &tls.Config{})
	k := net.KeepAliveConfig{Enable: true, Idle: benchCfg.Idle, Interval: benchCfg.Interval, Count: benchCfg.Count}
	const block = 32
	var gos, ours, wrapped time.Duration
	timed := func(f func() error) time.Duration {
		start := time.Now()
		for range block {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	b.ReportAllocs()
	for b.Loop() {
		gos += timed(func() error { return c.SetKeepAliveConfig(k) })
		ours += timed(func() error { return benchCfg.Apply(c) })
		wrapped += timed(func() error { return benchCfg.Apply(tc) })
	}
	b.ReportMetric(float64(ours)/float64(gos), "x-net")
	b.ReportMetric(float64(wrapped)/float64(gos), "tls-x-net")
}
