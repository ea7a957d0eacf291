//go:build linux && !386 && !s390x

package keepalive

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// getTCPInfo calls the kernel directly, as getInt does (see
// sockopt_raw_linux.go): it does not wait for the network. The buffer is the
// caller's, on its stack, so nothing is allocated. getTCPInfo returns how
// many bytes the kernel filled.
func getTCPInfo(fd uintptr, info *unix.TCPInfo) (uintptr, error) {
	size := uint32(unsafe.Sizeof(*info))
	_, _, errno := unix.RawSyscall6(unix.SYS_GETSOCKOPT, fd, unix.IPPROTO_TCP, unix.TCP_INFO, uintptr(unsafe.Pointer(info)), uintptr(unsafe.Pointer(&size)), 0)
	if errno != 0 {
		return 0, errno
	}
	return uintptr(size), nil
}
