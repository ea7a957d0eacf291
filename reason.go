package keepalive

import (
	"errors"
	"io"
	"net"
)

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

// Diagnose says why conn failed with err, from err and from what the
// kernel still reports on the dead socket ([Inspect]): call it after the
// failed Read or Write and before Close. See [Health.Diagnose].
func Diagnose(conn net.Conn, err error) Cause {
	h, inspectErr := Inspect(conn)
	if inspectErr != nil {
		h = Health{}
	}
	return h.Diagnose(err)
}

// Diagnose says why the connection failed with err, given h read from it
// afterwards.
//
// ECONNRESET is a reset by the peer, EHOSTUNREACH and ENETUNREACH an ICMP
// unreachable. ETIMEDOUT means the kernel gave up, and h says on what: the
// peer's window still zero with data waiting (zero window), data sent and
// never acknowledged or retransmissions counted (data unacknowledged), or
// probes counted (keepalive). Winsock's WSAENETRESET from recv or send
// says by itself that keepalive found the peer gone. A Linux socket the kernel dropped keeps
// these facts until it is closed: state CLOSED, tcpi_probes (Count, or 1
// with a UserTimeout), tcpi_retransmits, the peer's window and the bytes
// queued; the backoff and the unacknowledged segment count are reset.
//
// The kernel hands the error of a dropped connection to one call only:
// when a Write blocked behind a zero window gets ETIMEDOUT, a Read waiting
// at the same time (or any later one) gets io.EOF, as if the peer had
// closed the connection (golang/go#31490; still so on Linux 6.18), and a
// later Write gets EPIPE. Diagnose tells the two apart by the state: a
// peer that closed leaves the connection in CLOSE-WAIT, a dropped one is
// CLOSED, and then h says why as above. [IsDeadPeer] sees only the error
// and reports false for that io.EOF.
func (h Health) Diagnose(err error) Cause {
	if err == nil {
		return CauseUnknown
	}
	switch classify(err) {
	case errReset:
		return CauseReset
	case errUnreachable:
		return CauseUnreachable
	case errTimedOut:
		return h.deathCause()
	case errKeepalive:
		return CauseKeepalive
	case errGone:
		if h.Has(MetricState) && h.State == StateClosed {
			return h.deathCause()
		}
		if errors.Is(err, io.EOF) {
			return CauseClosed
		}
	}
	return CauseUnknown
}

// deathCause reads why the kernel dropped a connection from what it still
// reports on it.
func (h Health) deathCause() Cause {
	switch {
	case h.Has(MetricSendWindow) && h.SendWindow == 0 && (h.NotSentBytes > 0 || h.UnackedBytes > 0):
		return CauseZeroWindow
	case h.Retransmits > 0 || h.UnackedBytes > 0:
		return CauseUnacked
	case h.Probes > 0:
		return CauseKeepalive
	}
	return CauseUnknown
}

// errClass is what an error from a failed Read or Write says by itself.
type errClass uint8

const (
	errOther       errClass = iota
	errTimedOut             // the kernel gave up: ETIMEDOUT
	errKeepalive            // keepalive found the peer gone, as the error says (Winsock's WSAENETRESET)
	errReset                // ECONNRESET
	errUnreachable          // EHOSTUNREACH, ENETUNREACH
	errGone                 // io.EOF or EPIPE: closed, or dropped and the error went to another call
)
