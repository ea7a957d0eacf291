//go:build linux

package keepalive

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// The ways BenchmarkInspect reads TCP_INFO from c: the usual one,
// unix.GetsockoptTCPInfo inside RawConn.Control (the baseline, xsys), and
// Inspect, directly and through a *tls.Conn. They are named functions so
// that an instruction count can be limited to them:
//
//	valgrind --tool=callgrind --toggle-collect='*.readTCPInfoXsys' ...
var inspectImpls = []struct {
	name string
	read func(c *net.TCPConn, tc *tls.Conn) error
}{
	{"xsys", readTCPInfoXsys},
	{"keepalive", readTCPInfoInspect},
	{"keepalive-tls", readTCPInfoInspectTLS},
}

func readTCPInfoXsys(c *net.TCPConn, _ *tls.Conn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var infoErr error
	if err := rc.Control(func(fd uintptr) {
		_, infoErr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil {
		return err
	}
	return infoErr
}

func readTCPInfoInspect(c *net.TCPConn, _ *tls.Conn) error {
	_, err := Inspect(c)
	return err
}

func readTCPInfoInspectTLS(_ *net.TCPConn, tc *tls.Conn) error {
	_, err := Inspect(tc)
	return err
}

// inspectRounds is how many rounds BenchmarkInspect runs: each runs every
// way once, in an order rotated from one round to the next, so that none
// always runs first or last (on a loaded machine the position alone moves
// the result) and all are measured at about the same time.
var inspectRounds = flag.Int("inspect-rounds", 1, "rounds of BenchmarkInspect")

// BenchmarkInspect compares Inspect with reading TCP_INFO the usual way,
// side by side on the same socket in one process, interleaved. Besides the
// wall clock it reports cpu-ns/op, the process's CPU time per call:
//
//	go test -run '^$' -bench Inspect -benchmem -inspect-rounds 10 . > inspect.txt
//	benchstat -col /impl -ignore /round inspect.txt   # xsys is the baseline
func BenchmarkInspect(b *testing.B) {
	c, _ := pair(b)
	tc := tls.Client(c, &tls.Config{})
	for round := range *inspectRounds {
		for i := range inspectImpls {
			impl := inspectImpls[(i+round)%len(inspectImpls)]
			b.Run(fmt.Sprintf("round=%d/impl=%s", round, impl.name), func(b *testing.B) {
				b.ReportAllocs()
				before := processCPU(b)
				for b.Loop() {
					if err := impl.read(c, tc); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(processCPU(b)-before)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// processCPU is the CPU time this process has used, user and system, in
// nanoseconds: unlike the wall clock, it does not count the time a loaded
// machine keeps the process waiting, and it includes the garbage
// collector's work for what the loop allocates.
func processCPU(b *testing.B) int64 {
	var u unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return u.Utime.Nano() + u.Stime.Nano()
}
