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

// checkTCP tells a TCP socket from any other, an SCTP stream socket too,
// by SO_PROTOTYPE, which illumos answers with the socket's protocol
// (usr/src/uts/common/inet/ip/conn_opt.c, conn_opt_get).
func checkTCP(fd uintptr) error {
	return checkProtocol(fd, unix.SO_PROTOTYPE, "SO_PROTOTYPE", unix.IPPROTO_TCP)
}
