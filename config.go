// Package keepalive makes TCP dead-peer detection behave the same way on
// every operating system.
//
// A TCP connection carries no traffic of its own while it is idle. When the
// peer vanishes without a FIN or RST (power lost, cable pulled, NAT entry
// expired, phone out of coverage) the local end stays ESTABLISHED forever: a
// blocked Read never returns and the server slowly fills with dead
// connections. Kernel keepalive fixes that: after Idle without data the
// kernel sends a probe, repeats it every Interval, and after Count unanswered
// probes drops the connection, so the blocked Read fails with ETIMEDOUT.
//
// The OS defaults (2 hours idle on Linux, macOS and Windows) are far too slow
// for applications, the knobs have different names and units on every OS, and
// Go's own [net.TCPConn.SetKeepAliveConfig] can fail half-way. This package
// validates a [Config] against the running OS's limits before it touches the
// socket, applies it with one call, and reads back with [Get] what the kernel
// really holds.
//
// Apply it after Accept or Dial:
//
//	cfg := keepalive.Config{Idle: 10 * time.Second, Interval: 5 * time.Second, Count: 3}
//	if err := cfg.Apply(conn); err != nil { ... }
//
// or let a [net.Dialer] or listener do it for every connection (see
// [Config.Dialer], [Config.Listen] and [Config.Listener]).
//
// [Inspect] reads what the kernel knows about a connection now (state,
// unanswered probes, retransmissions, queued data, quiet time, RTT: a
// [Health]), [Health.Predict] says when the kernel will drop it if nothing
// more arrives, and [Diagnose] says why a failed connection died.
//
// # Errors
//
// One contract holds for every call that touches a socket:
//
//   - nil: the socket holds everything asked: after Apply, keepalive on
//     and every non-zero field set; after Disable, keepalive off.
//   - *RangeError (matches ErrOutOfRange): the Config is invalid for this OS.
//     Found before any system call: nothing changed. (Solaris before 11.4,
//     which sets Interval and Count only as their product, refuses one
//     without the other the same way, with an error matching
//     ErrUnsupported.)
//   - ErrNotTCP: not a TCP connection. Nothing changed.
//   - *UnsupportedError (matches ErrUnsupported and errors.ErrUnsupported):
//     a shortfall, tolerated. Keepalive is on and every field in its Set
//     holds; those in Missing do not, because this OS has no per-socket
//     option for them or this socket lacks one. Where the OS cannot do
//     anything per socket (js, wasip1, plan9) its Enabled is false: nothing
//     was applied.
//   - *OptionError: the OS refused a value or failed. Timings set before
//     the refused one stay, and keepalive is not switched on by this call,
//     except where the OS switches it on with the timings (Windows'
//     SIO_KEEPALIVE_VALS, which sets Idle and Interval, before any other
//     option) or takes one once more after it is on (macOS: Idle).
//     Validation makes a refusal rare: it is the OS's
//     own limit where it is lower than documented (Wine's host), or a
//     failing socket.
//
// An error about a *net.TCPConn (also one found behind a *tls.Conn or other
// NetConn() wrapper) comes inside a *net.OpError that names the connection's
// addresses; errors.Is and errors.As see through it. A closed connection
// gives an error matching net.ErrClosed.
//
// [Get] returns nil when it read everything this OS can report; the fields
// it cannot report on this OS or socket are zero and named in
// State.Unknown. [Config.Dialer], [Config.ListenConfig], [Config.Listen] and
// [Config.Listener] validate when they are built and report the same
// errors then: an *UnsupportedError comes with a working helper that sets
// the rest, any other error with none.
package keepalive

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// Config is a keepalive configuration for one TCP connection.
//
// A zero field leaves the socket's current value alone: the OS default, or
// whatever was set before; so no Config turns a UserTimeout set earlier
// back off. A negative field is an error. Durations are
// rounded up to the unit the OS works in (whole seconds for Idle and Interval
// on Linux, milliseconds for UserTimeout), exactly as Go's own
// [net.TCPConn.SetKeepAliveConfig] rounds them. Which option each field
// sets on each OS, in which unit and range, is listed under "Support per
// OS" in the package documentation.
type Config struct {
	// Idle is how long the connection must be idle before the first probe.
	Idle time.Duration
	// Interval is the time between unanswered probes.
	Interval time.Duration
	// Count is how many unanswered probes drop the connection.
	Count int
	// UserTimeout is how long sent data may stay unacknowledged before the
	// connection is dropped (TCP_USER_TIMEOUT on Linux). Keepalive probes
	// are not sent while data is in flight, so without it a peer that
	// vanishes mid-write is detected only by the retransmission timeout,
	// about 15 minutes on Linux.
	//
	// UserTimeout also drops a peer that is alive but stops reading: data
	// waiting behind its zero window makes no progress, although its
	// kernel answers every probe (Linux 6.18: the writer fails 2.42 s
	// after the window closed for a UserTimeout of 2 s; without
	// UserTimeout such a connection lives on). Set it above the longest
	// pause a healthy consumer may take.
	UserTimeout time.Duration
}

// State is what the kernel holds for a connection now, OS defaults
// included.
type State struct {
	// Enabled reports whether keepalive probes are on (SO_KEEPALIVE).
	Enabled bool
	// Config holds the timings the socket has, whether keepalive is on or
	// not; a field named in Unknown is zero.
	Config Config
	// Unknown names the fields this OS, or this socket, cannot report: one
	// it has no per-socket option for, one it can set but not read back
	// (Windows' SIO_KEEPALIVE_VALS), or one this kind of socket lacks
	// (TCP_USER_TIMEOUT on a Linux MPTCP connection).
	Unknown Fields
}

// Fields is a set of Config fields.
type Fields uint8

// The Config fields, for Fields.
const (
	FieldIdle Fields = 1 << iota
	FieldInterval
	FieldCount
	FieldUserTimeout
)

// fieldNames are the Config field names in Fields order, for String and
// errors.
var fieldNames = [...]string{"Idle", "Interval", "Count", "UserTimeout"}

// String lists the fields by name in Config order, "Idle, Count", or
// "none"; bits that name no field are shown in hex, "Fields(0x10)".
func (f Fields) String() string {
	var names []string
	for i, name := range fieldNames {
		if f&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	if rest := f &^ (1<<len(fieldNames) - 1); rest != 0 {
		names = append(names, fmt.Sprintf("Fields(%#x)", uint8(rest)))
	}
	if names == nil {
		return "none"
	}
	return strings.Join(names, ", ")
}

// KeepAliveConfig converts c to Go's own [net.KeepAliveConfig], for
// [net.TCPConn.SetKeepAliveConfig] or the KeepAliveConfig field of a Dialer
// or ListenConfig. Enable is true; a zero field of c becomes -1, which
// leaves the value alone there too. UserTimeout has no counterpart and is
// dropped.
//
// On NetBSD, whose TCP_KEEPIDLE and TCP_KEEPINTVL count half seconds,
// SetKeepAliveConfig passes whole seconds (net/tcpsockopt_unix.go), so the
// socket then holds half of c's Idle and Interval; Apply sets them as
// asked.
func (c Config) KeepAliveConfig() net.KeepAliveConfig {
	leave := func(d time.Duration) time.Duration {
		if d == 0 {
			return -1
		}
		return d
	}
	k := net.KeepAliveConfig{Enable: true, Idle: leave(c.Idle), Interval: leave(c.Interval), Count: c.Count}
	if c.Count == 0 {
		k.Count = -1
	}
	return k
}

// Go's keepalive defaults, applied by net for a zero KeepAliveConfig field.
const (
	goDefaultIdle     = 15 * time.Second
	goDefaultInterval = 15 * time.Second
	goDefaultCount    = 9
)

// FromKeepAliveConfig converts Go's [net.KeepAliveConfig] into the Config
// that applies the same settings: a negative field (leave alone) becomes
// zero, and a zero field becomes Go's default (15s, 15s, 9 probes), as
// SetKeepAliveConfig would apply it. Enable has no counterpart: a Config
// always enables keepalive, so check k.Enable first.
func FromKeepAliveConfig(k net.KeepAliveConfig) Config {
	pick := func(x, def int64) int64 {
		switch {
		case x < 0:
			return 0
		case x == 0:
			return def
		}
		return x
	}
	return Config{
		Idle:     time.Duration(pick(int64(k.Idle), int64(goDefaultIdle))),
		Interval: time.Duration(pick(int64(k.Interval), int64(goDefaultInterval))),
		Count:    int(pick(int64(k.Count), goDefaultCount)),
	}
}
