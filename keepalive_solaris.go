//go:build !illumos

package keepalive

import "golang.org/x/sys/unix"

// native is Solaris 11.4's table where the kernel is 11.4 or later, as Go's
// net package decides from uname's version; before that, the legacy one,
// which sets Interval and Count only as their product (solaris_legacy.go).
var native = func() *platform {
	var u unix.Utsname
	if unix.Uname(&u) == nil && solarisHasKeepIdle(unix.ByteSliceToString(u.Version[:])) {
		return &solaris
	}
	return &solarisLegacy
}()

// The solaris tables must hold the kernel's numbers: each line fails to
// compile if one differs from golang.org/x/sys. Its TCP_KEEPIDLE,
// TCP_KEEPINTVL and TCP_KEEPCNT are illumos's (0x22, 0x24, 0x23), so the
// Solaris 11.4 numbers (0x1d, 0x1e, 0x1f, from Solaris 11.4's
// <netinet/tcp.h>, as in Go's net/tcpsockopt_solaris.go) cannot be checked.
var (
	_ = [1]struct{}{}[ipprotoTCP-unix.IPPROTO_TCP]
	_ = [1]struct{}{}[solarisTCPAbortThreshold-unix.TCP_ABORT_THRESHOLD]
	_ = [1]struct{}{}[solarisTCPKeepaliveThreshold-unix.TCP_KEEPALIVE_THRESHOLD]
	_ = [1]struct{}{}[solarisTCPKeepaliveAbortThreshold-unix.TCP_KEEPALIVE_ABORT_THRESHOLD]
)

// checkTCP tells a TCP socket from any other by its type and address
// family. An SCTP stream socket passes too; what its kernel answers to the
// TCP options then decides the error (refused: an *OptionError; unknown,
// ENOPROTOOPT: a shortfall, keepalive on). illumos, which shares
// SO_PROTOTYPE, reads the protocol instead; Solaris's answer to it is not
// documented.
func checkTCP(fd uintptr) error { return checkStream(fd) }
