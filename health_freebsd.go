package keepalive

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// freebsdTCPInfo is FreeBSD's struct tcp_info (sys/netinet/tcp.h), up to
// the fields read here; the kernel copies no more than the buffer holds.
// Its probe, retransmission and backoff counters are placeholders that
// tcp_fill_info (sys/netinet/tcp_usrreq.c) never fills. Times are in
// microseconds; tcpi_last_data_recv counts from t_rcvtime, which every
// segment received updates.
type freebsdTCPInfo struct {
	state    uint8
	_        [7]uint8
	rto      uint32 // usec
	_        [10]uint32
	lastRecv uint32 // usec since any segment arrived
	_        [3]uint32
	rtt      uint32 // usec, smoothed
	_        [7]uint32
	sndWnd   uint32 // bytes
	_        [7]uint32
	_        [8]uint32 // ECN counters
	_        uint32    // tcpi_total_tlp
	_        [2]uint32 // tcpi_total_tlp_bytes
	sndUna   uint32    // FreeBSD 14
	sndMax   uint32
	_        [3]uint32
	_        [10]uint32
}

// The layout above must match the header: tcpi_snd_wnd at 100, tcpi_snd_una
// at 176, 236 bytes in all (240 with the 8-byte alignment of
// tcpi_total_tlp_bytes, which this copy without uint64 does not need).
var (
	_ = [1]struct{}{}[unsafe.Offsetof(freebsdTCPInfo{}.sndWnd)-100]
	_ = [1]struct{}{}[unsafe.Offsetof(freebsdTCPInfo{}.sndUna)-176]
	_ = [1]struct{}{}[unsafe.Sizeof(freebsdTCPInfo{})-236]
	_ = [1]struct{}{}[freebsdTCPInfoOpt-unix.TCP_INFO]
)

const freebsdTCPInfoOpt = 0x20

// inspectFD reads TCP_INFO into h.
func inspectFD(fd uintptr, h *Health) error {
	var info freebsdTCPInfo
	size := uint32(unsafe.Sizeof(info))
	_, _, errno := unix.RawSyscall6(unix.SYS_GETSOCKOPT, fd, unix.IPPROTO_TCP, freebsdTCPInfoOpt, uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&size)), 0)
	if errno != 0 {
		return &OptionError{Op: "get", Option: "TCP_INFO", Err: errno}
	}
	h.State = fromTable(bsdStates[:], uint32(info.state))
	h.RTO = time.Duration(info.rto) * time.Microsecond
	h.SinceReceived = time.Duration(info.lastRecv) * time.Microsecond
	h.RTT = time.Duration(info.rtt) * time.Microsecond
	h.SendWindow = int(info.sndWnd)
	h.Known = MetricRTO | MetricSinceReceived | MetricRTT | MetricSendWindow
	if h.State != StateUnknown {
		h.Known |= MetricState
	}
	// Before FreeBSD 14 these are padding, zeroed.
	if info.sndUna != 0 || info.sndMax != 0 {
		h.UnackedBytes = int(info.sndMax - info.sndUna)
		h.Known |= MetricUnackedBytes
	}
	return nil
}
