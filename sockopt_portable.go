//go:build unix && !(linux && !386 && !s390x)

package keepalive

import "golang.org/x/sys/unix"

// setInt and getInt are the plain x/sys calls where no faster path is
// known to be safe.

func setInt(fd uintptr, level, opt, value int) error {
	return unix.SetsockoptInt(int(fd), level, opt, value)
}

func getInt(fd uintptr, level, opt int) (int, error) {
	return unix.GetsockoptInt(int(fd), level, opt)
}
