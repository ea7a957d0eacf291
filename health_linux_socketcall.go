//go:build linux && (386 || s390x)

package keepalive

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// getTCPInfo and ioctlInt go through x/sys where socket calls may need
// socketcall (see sockopt_portable.go). x/sys does not say how much of the
// struct the kernel filled, so it is taken to be all of it.
func getTCPInfo(fd uintptr, info *unix.TCPInfo) (uintptr, error) {
	got, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0, err
	}
	*info = *got
	return unsafe.Sizeof(*info), nil
}

func ioctlInt(fd uintptr, req uint) (int, error) {
	return unix.IoctlGetInt(int(fd), req)
}
