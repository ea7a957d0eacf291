//go:build darwin || freebsd || netbsd

package keepalive

// bsdStates maps the TCPS_* numbering that the BSDs and Darwin share
// (netinet/tcp_fsm.h) to TCPState.
var bsdStates = [...]TCPState{
	StateClosed, StateListen, StateSynSent, StateSynReceived, StateEstablished,
	StateCloseWait, StateFinWait1, StateClosing, StateLastAck, StateFinWait2,
	StateTimeWait,
}
