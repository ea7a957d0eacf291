package keepalive

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// linuxStates maps Linux's TCP_* state numbers (include/net/tcp_states.h)
// to TCPState.
var linuxStates = [...]TCPState{
	unix.BPF_TCP_ESTABLISHED: StateEstablished,
	unix.BPF_TCP_SYN_SENT:    StateSynSent,
	unix.BPF_TCP_SYN_RECV:    StateSynReceived,
	unix.BPF_TCP_FIN_WAIT1:   StateFinWait1,
	unix.BPF_TCP_FIN_WAIT2:   StateFinWait2,
	unix.BPF_TCP_TIME_WAIT:   StateTimeWait,
	unix.BPF_TCP_CLOSE:       StateClosed,
	unix.BPF_TCP_CLOSE_WAIT:  StateCloseWait,
	unix.BPF_TCP_LAST_ACK:    StateLastAck,
	unix.BPF_TCP_LISTEN:      StateListen,
	unix.BPF_TCP_CLOSING:     StateClosing,
}

// A kernel older than the struct copies only the part it knows and says
// how much: a field is reported if it lies wholly within that length.
var (
	notsentEnd = unsafe.Offsetof(unix.TCPInfo{}.Notsent_bytes) + unsafe.Sizeof(unix.TCPInfo{}.Notsent_bytes) // Linux 4.6
	sndWndEnd  = unsafe.Offsetof(unix.TCPInfo{}.Snd_wnd) + unsafe.Sizeof(unix.TCPInfo{}.Snd_wnd)             // Linux 5.19
	rttEnd     = unsafe.Offsetof(unix.TCPInfo{}.Rtt) + unsafe.Sizeof(unix.TCPInfo{}.Rtt)
)

// inspectFD reads TCP_INFO (struct tcp_info, include/uapi/linux/tcp.h) into
// h. Times in it are in milliseconds (tcpi_last_*) or microseconds (tcpi_rto,
// tcpi_rtt).
//
// UnackedBytes is in bytes, and tcp_info counts unacknowledged segments
// (tcpi_unacked) only: the bytes are SIOCOUTQ (written and not yet
// acknowledged) minus tcpi_notsent_bytes, one more system call, made only
// when segments are in flight or the connection is closed (a dead socket
// has dropped its segments but still knows how much went unacknowledged).
func inspectFD(fd uintptr, h *Health) error {
	var info unix.TCPInfo
	n, err := getTCPInfo(fd, &info)
	if err != nil {
		return &OptionError{Op: "get", Option: "TCP_INFO", Err: err}
	}
	if n < rttEnd {
		return &OptionError{Op: "get", Option: "TCP_INFO", Err: unix.EINVAL}
	}
	h.State = fromTable(linuxStates[:], uint32(info.State))
	h.Probes = int(info.Probes)
	h.Retransmits = int(info.Retransmits)
	h.Backoff = int(info.Backoff)
	h.RTO = time.Duration(info.Rto) * time.Microsecond
	h.SinceReceived = time.Duration(min(info.Last_data_recv, info.Last_ack_recv)) * time.Millisecond
	h.SinceSent = time.Duration(info.Last_data_sent) * time.Millisecond
	h.RTT = time.Duration(info.Rtt) * time.Microsecond
	h.Known = MetricProbes | MetricRetransmits | MetricBackoff | MetricRTO |
		MetricSinceReceived | MetricSinceSent | MetricRTT
	if h.State != StateUnknown {
		h.Known |= MetricState
	}
	if n >= sndWndEnd {
		h.SendWindow = int(info.Snd_wnd)
		h.Known |= MetricSendWindow
	}
	if n < notsentEnd {
		return nil
	}
	h.NotSentBytes = int(info.Notsent_bytes)
	h.Known |= MetricNotSentBytes
	if info.Unacked == 0 && h.State != StateClosed {
		h.Known |= MetricUnackedBytes
		return nil
	}
	if queued, err := ioctlInt(fd, unix.SIOCOUTQ); err == nil {
		h.UnackedBytes = max(0, queued-h.NotSentBytes)
		h.Known |= MetricUnackedBytes
	}
	return nil
}

// ioctlInt reads an int-valued ioctl without the scheduler hand-off, as
// getTCPInfo does: SIOCOUTQ only reads a counter under the socket lock.
func ioctlInt(fd uintptr, req uint) (int, error) {
	var v int32
	_, _, errno := unix.RawSyscall(unix.SYS_IOCTL, fd, uintptr(req), uintptr(unsafe.Pointer(&v)))
	if errno != 0 {
		return 0, errno
	}
	return int(v), nil
}
