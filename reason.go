package keepalive

// Cause is why the kernel drops, or dropped, a connection.
type Cause uint8

// The causes, for Prediction.By and Diagnose.
const (
	// CauseUnknown: nothing the error or the kernel says tells why.
	CauseUnknown Cause = iota
	// CauseKeepalive: keepalive probes went unanswered.
	CauseKeepalive
	// CauseUnacked: sent data stayed unacknowledged (retransmissions ran
	// out, or UserTimeout passed).
	CauseUnacked
	// CauseZeroWindow: data waited behind the peer's zero window (it
	// stopped reading) until UserTimeout passed or probes went unanswered.
	CauseZeroWindow
	// CauseReset: the peer answered with RST, for example because it
	// rebooted and forgot the connection.
	CauseReset
	// CauseUnreachable: a router reported the peer unreachable (ICMP).
	CauseUnreachable
	// CauseClosed: the peer closed the connection normally (FIN).
	CauseClosed
	numCauses
)

var causeNames = [numCauses]string{
	"unknown cause",
	"keepalive probes unanswered",
	"data unacknowledged",
	"zero window: the peer stopped reading",
	"reset by the peer",
	"network unreachable",
	"closed normally",
}

// String says what happened, "keepalive probes unanswered".
func (c Cause) String() string {
	if c < numCauses {
		return causeNames[c]
	}
	return "unknown cause"
}
