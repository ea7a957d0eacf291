package keepalive

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// inspectFD reads TCP_CONNECTION_INFO (struct tcp_connection_info,
// bsd/netinet/tcp.h; filled by tcp_connection_fill_info in
// bsd/netinet/tcp_usrreq.c) into h. Darwin reports no probe or
// retransmission count and no time since the last segment, and only the
// sum of unacknowledged and unsent bytes (tcpi_snd_sbbytes), which is
// neither field. tcpi_rto is filled only while the retransmission timer is
// pending, so RTO is reported only then. Times are in milliseconds.
//
// Darwin makes system calls through libSystem, so this goes through x/sys,
// whose GetsockoptTCPConnectionInfo allocates its result.
func inspectFD(fd uintptr, h *Health) error {
	info, err := unix.GetsockoptTCPConnectionInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_CONNECTION_INFO)
	if err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			err = errno
		}
		return &OptionError{Op: "get", Option: "TCP_CONNECTION_INFO", Err: err}
	}
	h.State = fromTable(bsdStates[:], uint32(info.State))
	h.SendWindow = int(info.Snd_wnd)
	h.RTT = time.Duration(info.Srtt) * time.Millisecond
	h.Known = MetricSendWindow | MetricRTT
	if h.State != StateUnknown {
		h.Known |= MetricState
	}
	if info.Rto != 0 {
		h.RTO = time.Duration(info.Rto) * time.Millisecond
		h.Known |= MetricRTO
	}
	return nil
}
