//go:build linux && !386 && !s390x

package keepalive

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// setInt and getInt call setsockopt and getsockopt directly, without the
// scheduler hand-off (entersyscall/exitsyscall) that a blocking system call
// needs. Socket options of a TCP socket do not wait for the network: the
// kernel takes the socket lock, which its holders keep for microseconds,
// and returns, just like getsockname, which Go's own syscall package calls
// this way. This is what makes Apply cheaper
// than four separate calls of Go's SetKeepAliveConfig.
//
// 386 and s390x are left out: their kernels before 4.3 reach these calls
// only through socketcall, which unix.SetsockoptInt takes care of.

func setInt(fd uintptr, level, opt, value int) error {
	v := int32(value)
	_, _, errno := unix.RawSyscall6(unix.SYS_SETSOCKOPT, fd, uintptr(level), uintptr(opt), uintptr(unsafe.Pointer(&v)), unsafe.Sizeof(v), 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func getInt(fd uintptr, level, opt int) (int, error) {
	var v int32
	size := uint32(unsafe.Sizeof(v))
	_, _, errno := unix.RawSyscall6(unix.SYS_GETSOCKOPT, fd, uintptr(level), uintptr(opt), uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&size)), 0)
	if errno != 0 {
		return 0, errno
	}
	return int(v), nil
}
