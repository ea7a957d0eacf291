package keepalive

import "golang.org/x/sys/unix"

var native = &linux

// The linux table must hold the kernel's numbers: each line fails to compile
// if one differs from golang.org/x/sys.
var (
	_ = [1]struct{}{}[ipprotoTCP-unix.IPPROTO_TCP]
	_ = [1]struct{}{}[linuxTCPKeepIdle-unix.TCP_KEEPIDLE]
	_ = [1]struct{}{}[linuxTCPKeepIntvl-unix.TCP_KEEPINTVL]
	_ = [1]struct{}{}[linuxTCPKeepCnt-unix.TCP_KEEPCNT]
	_ = [1]struct{}{}[linuxTCPUserTimeout-unix.TCP_USER_TIMEOUT]
)

// checkTCP tells a TCP socket from any other: SO_PROTOCOL is IPPROTO_TCP, or
// IPPROTO_MPTCP for Multipath TCP, which takes the same options.
func checkTCP(fd uintptr) error {
	return checkProtocol(fd, unix.SO_PROTOCOL, "SO_PROTOCOL", unix.IPPROTO_TCP, unix.IPPROTO_MPTCP)
}
