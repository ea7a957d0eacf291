//go:build linux

package keepalive

import (
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
	b.Run("impl=keepalive", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := benchCfg.Apply(c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkGet(b *testing.B) {
	c, _ := pair(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Get(c); err != nil {
			b.Fatal(err)
		}
	}
}
