package keepalive

import (
	"fmt"
	"strings"
	"time"
)

// Health is what the kernel knows about a TCP connection right now, read
// with [Inspect]. The fields mean the same and have the same units on every
// OS; a field the OS does not report is zero and absent from Known, so a
// zero is never mistaken for a fact.
type Health struct {
	// State is the connection's TCP state.
	State TCPState
	// Probes is how many keepalive or zero-window probes have gone
	// unanswered so far. An answer resets it.
	Probes int
	// Retransmits is how many times in a row the oldest unacknowledged
	// data has been retransmitted without an acknowledgement.
	Retransmits int
	// Backoff is how many times the retransmission or zero-window probe
	// timer has doubled since data last made progress.
	Backoff int
	// RTO is the current retransmission timeout, backoff included.
	RTO time.Duration
	// UnackedBytes is how many bytes were sent and not yet acknowledged
	// (ss and tcpi_unacked count segments instead).
	UnackedBytes int
	// NotSentBytes is how many bytes the application wrote that the kernel has
	// not sent yet (send window or congestion window full).
	NotSentBytes int
	// SendWindow is how many bytes the peer last said it can take: 0 means
	// its receive buffer is full (it stopped reading).
	SendWindow int
	// SinceReceived is the time since anything (data or a bare
	// acknowledgement) last arrived from the peer: the idle time that
	// keepalive counts.
	SinceReceived time.Duration
	// SinceSent is the time since data was last sent, retransmissions
	// included.
	SinceSent time.Duration
	// RTT is the smoothed round-trip time.
	RTT time.Duration
	// Known names the fields this OS reported for this connection.
	Known Metrics
}

// Has reports whether every field in m was reported.
func (h Health) Has(m Metrics) bool { return h.Known&m == m }

// Metrics is a set of Health fields.
type Metrics uint16

// The Health fields, for Health.Known.
const (
	MetricState Metrics = 1 << iota
	MetricProbes
	MetricRetransmits
	MetricBackoff
	MetricRTO
	MetricUnackedBytes
	MetricNotSentBytes
	MetricSendWindow
	MetricSinceReceived
	MetricSinceSent
	MetricRTT
	numMetrics = iota
)

var metricNames = [numMetrics]string{
	"State", "Probes", "Retransmits", "Backoff", "RTO", "UnackedBytes", "NotSentBytes",
	"SendWindow", "SinceReceived", "SinceSent", "RTT",
}

// String lists the fields by name, "State, RTT", or "none".
func (m Metrics) String() string {
	var names []string
	for i, name := range metricNames {
		if m&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	if names == nil {
		return "none"
	}
	return strings.Join(names, ", ")
}

// TCPState is a TCP connection state (RFC 9293), numbered the same on every
// OS.
type TCPState uint8

// The TCP states. StateUnknown is the zero value: the OS did not say, or
// said something this package does not know.
const (
	StateUnknown TCPState = iota
	StateClosed
	StateListen
	StateSynSent
	StateSynReceived
	StateEstablished
	StateFinWait1
	StateFinWait2
	StateCloseWait
	StateClosing
	StateLastAck
	StateTimeWait
	numStates
)

var stateNames = [numStates]string{
	"UNKNOWN", "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED",
	"FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
}

// String returns the state's name as RFC 9293 spells it, "CLOSE-WAIT".
func (s TCPState) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return fmt.Sprintf("TCPState(%d)", uint8(s))
}

// fromTable maps an OS's state number through table; a number beyond it
// is StateUnknown.
func fromTable(table []TCPState, n uint32) TCPState {
	if uint64(n) < uint64(len(table)) {
		return table[n]
	}
	return StateUnknown
}
