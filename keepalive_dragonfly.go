package keepalive

import "golang.org/x/sys/unix"

// native is the dragonfly table (FreeBSD's options in seconds) from
// DragonFly 5.8 on, which kern.osreldate tells as libuv does; before that,
// or if the kernel does not say, dragonflyLegacy, since seconds there
// would be read as milliseconds.
var native = func() *platform {
	if v, err := unix.SysctlUint32("kern.osreldate"); err == nil && dragonflyCountsSeconds(v) {
		return &dragonfly
	}
	return &dragonflyLegacy
}()

// The dragonfly table (FreeBSD's) must hold the kernel's numbers: each line fails to
// compile if one differs from golang.org/x/sys.
var (
	_ = [1]struct{}{}[ipprotoTCP-unix.IPPROTO_TCP]
	_ = [1]struct{}{}[freebsdTCPKeepIdle-unix.TCP_KEEPIDLE]
	_ = [1]struct{}{}[freebsdTCPKeepIntvl-unix.TCP_KEEPINTVL]
	_ = [1]struct{}{}[freebsdTCPKeepCnt-unix.TCP_KEEPCNT]
)

// checkTCP tells a TCP socket from any other. DragonFly has no SO_PROTOCOL,
// and its only Internet stream sockets are TCP.
func checkTCP(fd uintptr) error { return checkStream(fd) }
