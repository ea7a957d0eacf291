package heartbeat

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidConfig is matched (with errors.Is) by every error that
// NewMonitor and NewPinger return for a bad configuration.
var ErrInvalidConfig = errors.New("heartbeat: invalid configuration")

// ErrClosed is returned by Monitor.Track and Monitor.TrackConn after the
// Monitor has been closed, and on the zero Monitor.
var ErrClosed = errors.New("heartbeat: monitor closed")

// ErrPeerDead is matched (with errors.Is) by the error Pinger.Run returns
// when it gives up on the peer.
var ErrPeerDead = errors.New("heartbeat: peer dead")

// ErrNilConn is returned by Monitor.Track, Monitor.TrackConn and
// Pinger.Wrap for a nil connection, including an interface holding a nil
// pointer (such as a nil *net.TCPConn).
var ErrNilConn = errors.New("heartbeat: nil connection")

// ErrInvalidKey is returned by Monitor.Track and Monitor.TrackConn for a
// key that is not equal to itself, and so could never be found again: a
// floating-point NaN, a value holding one, or an interface value holding
// a value that is not comparable (a slice, map or function, on which ==
// panics). Touch and Remove of such a key report false.
var ErrInvalidKey = errors.New("heartbeat: key not equal to itself")

// ErrFull is returned by Monitor.Track and Monitor.TrackConn when the
// key's shard already holds 2^24-1 connections, the most one shard can
// index (about 16.7 million; with the 64 to 1024 shards that Shards 0
// picks, a billion or more connections in all).
var ErrFull = errors.New("heartbeat: monitor shard full")

// ErrHalfClosed is returned by Monitor.Track and Monitor.TrackConn for a
// connection that timed out under the same key and is in its grace
// period (see MonitorConfig.Grace), or a TrackConn wrapper of one. Its
// write side is already shut: the Monitor has called CloseWrite, the
// peer has seen end of file and cannot be answered any more, so
// tracking it again could only keep a connection alive that can no
// longer send, and then see it closed under the new tracking. Track
// changes nothing instead: the connection stays in its grace period,
// and the Monitor still closes it when Grace ends and calls OnEvict for
// it once, with TimedOut. Track it again only after that, if at all;
// to keep a slow client, have it reconnect (its new connection can be
// tracked under the same key at once).
var ErrHalfClosed = errors.New("heartbeat: connection timed out and half-closed, in its grace period")

// ErrStaleWrapper is returned by Monitor.Track for a wrapper returned by
// the same Monitor's TrackConn that is not tracked under the key given,
// neither itself nor as the connection it wraps: it was removed,
// replaced or timed out, or it is tracked under another key. Track
// could only refresh it. Its reads and its Close act on the tracking
// that TrackConn made, so they could not act on a new one: its reads
// would not count as activity, and its Close would not end the new
// tracking. Nothing changes (a connection tracked under the key stays,
// untouched). To track the connection again, call TrackConn with the
// connection the wrapper wraps (its NetConn method returns it) and use
// the new wrapper.
var ErrStaleWrapper = errors.New("heartbeat: TrackConn wrapper not tracked under this key")

// ErrRunning is returned by Pinger.Run when another Run of the same
// Pinger has not returned yet.
var ErrRunning = errors.New("heartbeat: Pinger.Run already running")

var (
	errNilContext = errors.New("heartbeat: nil Context")
	errNoCloseWrt = fmt.Errorf("heartbeat: CloseWrite: %w", errors.ErrUnsupported)
)

// PanicError is a panic that a Monitor recovered from a connection's
// Close or CloseWrite method or from OnEvict, as passed to
// MonitorConfig.OnPanic.
type PanicError struct {
	Op    string // what panicked: "Close", "CloseWrite" or "OnEvict"
	Value any    // the value passed to panic
	Stack []byte // the panicking goroutine's stack
}

// Error names the call that panicked and the panic value.
func (e *PanicError) Error() string {
	return fmt.Sprintf("heartbeat: panic in %s: %v", e.Op, e.Value)
}

// Unwrap returns Value if it is an error, and nil otherwise.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// ConfigError describes one invalid field of a MonitorConfig or
// PingerConfig. It unwraps to ErrInvalidConfig. When several fields are
// invalid the constructors return them joined with errors.Join; use
// errors.As to get the first one.
type ConfigError struct {
	Field string // name of the offending field, e.g. "IdleTimeout"
	Msg   string // what is wrong with it
}

// Error names the field and says what is wrong with it.
func (e *ConfigError) Error() string {
	return "heartbeat: invalid " + e.Field + ": " + e.Msg
}

// Unwrap returns ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// joinErrs returns nil, the only error, or all of them joined.
func joinErrs(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

func configErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// DeadError is returned by Pinger.Run, and passed to PingerConfig.OnDead,
// when the peer is declared dead. It matches ErrPeerDead with errors.Is,
// and also the error returned by Ping when a ping failed.
type DeadError struct {
	// Pings is the number of pings sent since the last inbound traffic.
	Pings int
	// Silence is how long nothing had been received when the peer was
	// declared dead.
	Silence time.Duration
	// Err is the error returned by PingerConfig.Ping if a ping failed,
	// which ends probing at once. It is nil when the pings went unanswered.
	Err error
}

// Error says how many pings went unanswered (or which one failed, and
// why) after how long a silence.
func (e *DeadError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("heartbeat: peer dead: ping %d failed after %v of silence: %v",
			e.Pings, e.Silence.Round(time.Millisecond), e.Err)
	}
	return fmt.Sprintf("heartbeat: peer dead: %d ping(s) unanswered, nothing received for %v",
		e.Pings, e.Silence.Round(time.Millisecond))
}

// Unwrap returns ErrPeerDead and, if a ping failed, its error.
func (e *DeadError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrPeerDead, e.Err}
	}
	return []error{ErrPeerDead}
}
