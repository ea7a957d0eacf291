// Package tcpinfo reads the Linux kernel's TCP_INFO for a connection, so that
// tests and demos can watch a vanished peer being detected: the state,
// unanswered keepalive probes, retransmissions, unacknowledged segments.
package tcpinfo

import (
	"net"

	"golang.org/x/sys/unix"
)

// Get reads TCP_INFO for c.
func Get(c *net.TCPConn) (*unix.TCPInfo, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var info *unix.TCPInfo
	var infoErr error
	if err := rc.Control(func(fd uintptr) {
		info, infoErr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil {
		return nil, err
	}
	return info, infoErr
}
