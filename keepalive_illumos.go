package keepalive

import "golang.org/x/sys/unix"

var native = &illumos

// The illumos table must hold the kernel's numbers: each line fails to
// compile if one differs from golang.org/x/sys.
var (
	_ = [1]struct{}{}[ipprotoTCP-unix.IPPROTO_TCP]
	_ = [1]struct{}{}[illumosTCPKeepIdle-unix.TCP_KEEPIDLE]
	_ = [1]struct{}{}[illumosTCPKeepIntvl-unix.TCP_KEEPINTVL]
	_ = [1]struct{}{}[illumosTCPKeepCnt-unix.TCP_KEEPCNT]
	_ = [1]struct{}{}[illumosTCPAbortThreshold-unix.TCP_ABORT_THRESHOLD]
)

// checkTCP tells a TCP socket from any other by its type and address
// family; an SCTP stream socket would pass, and then fail on the first TCP
// option.
func checkTCP(fd uintptr) error { return checkStream(fd) }
