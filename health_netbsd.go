package keepalive

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// netbsdTCPInfoOpt is NetBSD's TCP_INFO (sys/netinet/tcp.h), which x/sys
// does not define.
const netbsdTCPInfoOpt = 0x9

// netbsdTCPInfo is NetBSD's struct tcp_info, 236 bytes, of which only the
// state is read: NetBSD's tcp_fill_info (sys/netinet/tcp_usrreq.c) scales
// slow-timer counters (t_rxtcur, t_srtt, t_rcvtime against tcp_now) by the
// hardclock tick, so its times are not in the microseconds it claims, and
// it reports the send window in segments.
type netbsdTCPInfo struct {
	state uint8
	_     [3]uint8
	_     [58]uint32
}

var _ = [1]struct{}{}[unsafe.Sizeof(netbsdTCPInfo{})-236]

// inspectFD reads TCP_INFO into h.
func inspectFD(fd uintptr, h *Health) error {
	var info netbsdTCPInfo
	size := uint32(unsafe.Sizeof(info))
	_, _, errno := unix.RawSyscall6(unix.SYS_GETSOCKOPT, fd, unix.IPPROTO_TCP, netbsdTCPInfoOpt, uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&size)), 0)
	if errno != 0 {
		return &OptionError{Op: "get", Option: "TCP_INFO", Err: errno}
	}
	h.State = fromTable(bsdStates[:], uint32(info.state))
	if h.State != StateUnknown {
		h.Known = MetricState
	}
	return nil
}
