package keepalive

import (
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// sioTCPInfo is SIO_TCP_INFO, _WSAIORW(IOC_VENDOR, 39) in mstcpip.h, which
// x/sys/windows does not define (Windows 10 1703 and later).
const sioTCPInfo = windows.IOC_IN | windows.IOC_OUT | windows.IOC_VENDOR | 39

// tcpInfoV0 is TCP_INFO_v0 (mstcpip.h), 88 bytes. Version 1 only adds
// send-limit statistics, which Health does not use.
type tcpInfoV0 struct {
	state             uint32 // TCPSTATE
	mss               uint32
	connectionTimeMs  uint64
	timestampsEnabled uint8
	rttUs             uint32
	minRttUs          uint32
	bytesInFlight     uint32
	cwnd              uint32
	sndWnd            uint32
	rcvWnd            uint32
	rcvBuf            uint32
	bytesOut          uint64
	bytesIn           uint64
	bytesReordered    uint32
	bytesRetrans      uint32
	fastRetrans       uint32
	dupAcksIn         uint32
	timeoutEpisodes   uint32
	synRetrans        uint8
}

var (
	_ = [1]struct{}{}[unsafe.Sizeof(tcpInfoV0{})-88]
	_ = [1]struct{}{}[sioTCPInfo-0xD8000027]
)

// windowsStates maps TCPSTATE (mstcpip.h) to TCPState.
var windowsStates = [...]TCPState{
	StateClosed, StateListen, StateSynSent, StateSynReceived, StateEstablished,
	StateFinWait1, StateFinWait2, StateCloseWait, StateClosing, StateLastAck,
	StateTimeWait,
}

// inspectFD reads SIO_TCP_INFO version 0 into h. Windows reports the
// state, bytes in flight, the send window and the RTT (RttUs, the smoothed
// estimate), but no probe or retransmission count of the current episode,
// no RTO and no time since the last segment. Wine answers WSAEOPNOTSUPP.
func inspectFD(fd uintptr, h *Health) error {
	var version uint32
	var info tcpInfoV0
	var n uint32
	err := windows.WSAIoctl(windows.Handle(fd), sioTCPInfo,
		(*byte)(unsafe.Pointer(&version)), uint32(unsafe.Sizeof(version)),
		(*byte)(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), &n, nil, 0)
	if err != nil {
		e := &OptionError{Op: "get", Option: "SIO_TCP_INFO", Err: err}
		if optionMissing(err) {
			return fmt.Errorf("%w: %w", ErrUnsupported, e)
		}
		return e
	}
	h.State = fromTable(windowsStates[:], info.state)
	h.UnackedBytes = int(info.bytesInFlight)
	h.SendWindow = int(info.sndWnd)
	h.RTT = time.Duration(info.rttUs) * time.Microsecond
	h.Known = MetricUnackedBytes | MetricSendWindow | MetricRTT
	if h.State != StateUnknown {
		h.Known |= MetricState
	}
	return nil
}
