//go:build linux

package keepalive

import (
	"crypto/tls"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkInspect compares Inspect with reading TCP_INFO the usual way,
// unix.GetsockoptTCPInfo inside RawConn.Control, side by side in one run:
//
//	go test -run '^$' -bench Inspect -benchmem -count 10 . > inspect.txt
//	benchstat -col /impl inspect.txt   # xsys is the baseline
func BenchmarkInspect(b *testing.B) {
	c, _ := pair(b)
	b.Run("impl=xsys", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rc, err := c.SyscallConn()
			if err != nil {
				b.Fatal(err)
			}
			var infoErr error
			if err := rc.Control(func(fd uintptr) {
				_, infoErr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
			}); err != nil {
				b.Fatal(err)
			}
			if infoErr != nil {
				b.Fatal(infoErr)
			}
		}
	})
	b.Run("impl=keepalive", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Inspect(c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=keepalive-tls", func(b *testing.B) {
		tc := tls.Client(c, &tls.Config{})
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Inspect(tc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
