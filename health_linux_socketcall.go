//go:build linux && (386 || s390x)

package keepalive

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// socketcallGetsockopt is getsockopt's number in socketcall(2)
// (include/uapi/linux/net.h: SYS_GETSOCKOPT), the only way to it on 386
// and s390x kernels before 4.3.
const socketcallGetsockopt = 15

// getTCPInfo calls the kernel directly, as on other
// architectures (health_linux_raw.go), through socketcall.
func getTCPInfo(fd uintptr, info *unix.TCPInfo) (uintptr, error) {
	size := uint32(unsafe.Sizeof(*info))
	args := [5]uintptr{fd, unix.IPPROTO_TCP, unix.TCP_INFO, uintptr(unsafe.Pointer(info)), uintptr(unsafe.Pointer(&size))}
	_, _, errno := unix.RawSyscall(unix.SYS_SOCKETCALL, socketcallGetsockopt, uintptr(unsafe.Pointer(&args)), 0)
	if errno != 0 {
		return 0, errno
	}
	return uintptr(size), nil
}
