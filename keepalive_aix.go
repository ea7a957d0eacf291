package keepalive

import "golang.org/x/sys/unix"

var native = &aix

// The aix table must hold the kernel's numbers: each line fails to compile if
// one differs from golang.org/x/sys.
var (
	_ = [1]struct{}{}[ipprotoTCP-unix.IPPROTO_TCP]
	_ = [1]struct{}{}[aixTCPKeepIdle-unix.TCP_KEEPIDLE]
	_ = [1]struct{}{}[aixTCPKeepIntvl-unix.TCP_KEEPINTVL]
	_ = [1]struct{}{}[aixTCPKeepCnt-unix.TCP_KEEPCNT]
)

// checkTCP tells a TCP socket from any other. AIX has no SO_PROTOCOL; an
// Internet stream socket is taken to be TCP.
func checkTCP(fd uintptr) error { return checkStream(fd) }
