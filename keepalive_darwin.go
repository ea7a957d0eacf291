package keepalive

import "golang.org/x/sys/unix"

// Darwin is macOS and iOS alike.
var native = &darwin

// The darwin table must hold the kernel's numbers: each line fails to compile
// if one differs from golang.org/x/sys.
var (
	_ = [1]struct{}{}[ipprotoTCP-unix.IPPROTO_TCP]
	_ = [1]struct{}{}[darwinTCPKeepAlive-unix.TCP_KEEPALIVE]
	_ = [1]struct{}{}[darwinTCPKeepIntvl-unix.TCP_KEEPINTVL]
	_ = [1]struct{}{}[darwinTCPKeepCnt-unix.TCP_KEEPCNT]
	_ = [1]struct{}{}[darwinTCPRxtConnDropTime-unix.TCP_RXT_CONNDROPTIME]
)

// checkTCP tells a TCP socket from any other. Darwin has no SO_PROTOCOL, and
// its only Internet stream sockets are TCP.
func checkTCP(fd uintptr) error { return checkStream(fd) }
