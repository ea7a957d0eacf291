package keepalive

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
)

// Reasons for an *UnsupportedError of the listen helpers (see errors.go).
const (
	whyNotAccepted = "%s: accepted sockets do not inherit %s from their listener (set: %s); use Config.Listen or Config.Listener"
)

// ListenConfig returns a copy of base (a zero ListenConfig if base is nil)
// that applies c to every TCP listening socket. It listens on every network
// base could; a UDP or Unix socket is left untouched.
//
// Where the OS copies a listener's keepalive settings to the sockets it
// accepts (Linux copies all of them), every accepted connection then holds c
// with no system call of its own. The copy has KeepAlive set to -1 so that
// Go does not overwrite those settings with its 15 s default after each
// Accept. A Config with UserTimeout listens on plain TCP, not Multipath TCP
// (see [Config.Listen]).
//
// A field the OS does not pass on to accepted sockets (on macOS, Idle and
// UserTimeout do not; on Windows, NetBSD, Solaris and AIX none is known
// to: see "Support per OS" in the package doc) cannot be set this
// way: the listener gets the rest, and the *UnsupportedError returned with
// the copy names those fields. [Config.Listen], or a listener wrapped with
// [Config.Listener], sets them on each accepted connection instead. An
// invalid Config gives a *RangeError and no ListenConfig.
func (c Config) ListenConfig(base *net.ListenConfig) (*net.ListenConfig, error) {
	v, err := c.values(native)
	if err != nil {
		return nil, err
	}
	onListener, perConn := v.split(native)
	announced := v.shortfall(native, 0, nil)
	if notPassed := fieldsOf(&perConn.set); notPassed != 0 {
		announced = &UnsupportedError{
			OS: native.goos, Set: fieldsOf(&v.set) &^ notPassed, Missing: fieldsOf(&v.missing) | notPassed,
			Enabled: true, why: whyNotAccepted,
		}
	}
	lc := c.listenCopy(base)
	lc.Control = chainListen(lc.Control, tcpOnly(applyControl(onListener, announced)))
	return lc, announced
}

// listenCopy returns a copy of base (or of a zero ListenConfig) on which Go
// sets no keepalive of its own, and which makes plain TCP sockets if c has
// UserTimeout.
func (c Config) listenCopy(base *net.ListenConfig) *net.ListenConfig {
	lc := copyOf(base)
	lc.KeepAlive, lc.KeepAliveConfig = -1, net.KeepAliveConfig{}
	c.protocolFor(lc)
	return lc
}

// split divides v into what a listener passes on to the sockets it accepts
// on p, to be set once on the listener, and the rest, to be set on each
// accepted socket. The fields p has no option for stay with onListener.
func (v *values) split(p *platform) (onListener, perConn values) {
	onListener.missing = v.missing
	for k := range numKnobs {
		switch {
		case !v.set[k]:
		case p.knobs[k].inherited:
			onListener.v[k], onListener.set[k] = v.v[k], true
		default:
			perConn.v[k], perConn.set[k] = v.v[k], true
		}
	}
	return onListener, perConn
}

// Listen announces on the local network address, like [net.Listen], and
// returns a listener whose accepted connections all hold c. It configures
// the listening socket once and, per accepted connection, sets only what
// the OS does not copy from the listener: on Linux, FreeBSD, DragonFly and
// illumos nothing, so accepting costs no system call at all; elsewhere
// those knobs and SO_KEEPALIVE (see "Support per OS" in the package doc).
// base may be nil. network must be tcp, tcp4 or tcp6.
//
// For a Config with fields this OS cannot set, Listen returns a working
// listener, which sets the rest, together with the *UnsupportedError: close
// it if you do not use it.
//
// Multipath TCP: Go listens with MPTCP by default where Linux has it, and
// Linux has no TCP_USER_TIMEOUT on an MPTCP socket. A Config with
// UserTimeout therefore makes Listen, ListenConfig and Dialer use plain TCP,
// as if base had SetMultipathTCP(false), so that the timeout holds and a
// Control func of base runs exactly once per socket; a Config without
// UserTimeout keeps base's choice.
func (c Config) Listen(ctx context.Context, base *net.ListenConfig, network, address string) (net.Listener, error) {
	v, err := c.values(native)
	if err != nil {
		return nil, err
	}
	if err := checkNetwork(network); err != nil {
		return nil, err
	}
	onListener, perConn := v.split(native)
	announced := v.shortfall(native, 0, nil)
	lc := c.listenCopy(base)
	lc.Control = chainListen(lc.Control, applyControl(onListener, announced))
	l, err := lc.Listen(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if perConn == (values{}) {
		return l, announced
	}
	return &listener{Listener: l, v: perConn}, announced
}

// Listener wraps l so that every TCP connection it accepts gets c applied.
// Use it for a listener made elsewhere; for a new one, [Config.Listen] is
// cheaper. A nil l is refused with ErrNotTCP.
//
// A zero field of c leaves what the accepted socket holds, which for a
// listener from net.Listen is Go's default (15s, 15s, 9 probes), not the
// OS's. A field this OS cannot set is named in the *UnsupportedError
// returned now, with a wrapper that sets the rest.
//
// A connection that is not TCP (from a Unix listener, say) is returned
// untouched, and so is one whose socket cannot be reached: a wrapper with
// neither a NetConn nor a SyscallConn method (as some PROXY-protocol
// listeners make) hides whether it is TCP, so wrap the listener below it. One that lacks an option its kind of socket does not have is
// returned with the rest set, and Get on it names the field in
// State.Unknown: on Linux, net.Listen listens with Multipath TCP, and a
// client that connects with MPTCP gets a connection without
// TCP_USER_TIMEOUT (one that connects with plain TCP gets it). No listener
// can tell that beforehand; [Config.Listen] avoids it by listening on plain
// TCP for a Config with UserTimeout. A TCP connection that cannot be
// configured otherwise is closed, and Accept returns the error, a
// *net.OpError naming the connection. It is temporary where the client
// reset or aborted the connection before it could be configured
// (ECONNRESET, ECONNABORTED; see [OptionError.Temporary]) and not on a
// persistent failure, so that a server such as net/http goes on accepting
// after the one and stops on the other.
func (c Config) Listener(l net.Listener) (net.Listener, error) {
	if isNil(l) {
		return nil, fmt.Errorf("%w: nil listener", ErrNotTCP)
	}
	v, err := c.values(native)
	if err != nil {
		return nil, err
	}
	ln := &listener{Listener: l, v: v, announced: v.shortfall(native, 0, nil)}
	return ln, ln.announced
}

// listener applies values to every accepted TCP connection.
type listener struct {
	net.Listener
	v         values
	announced error // the shortfall reported when it was built, or nil
}

func (l *listener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	err = applyValues(conn, &l.v)
	if tolerated(err, l.announced) || socketLacks(err) || errors.Is(err, ErrNotTCP) {
		return conn, nil // configured as far as it can be, or not ours to configure
	}
	conn.Close()
	return nil, err
}

// socketLacks reports whether err is the shortfall of a socket that lacks
// an option its kind does not have, keepalive on with the rest.
func socketLacks(err error) bool {
	var ue *UnsupportedError
	return errors.As(err, &ue) && ue.Enabled && ue.why == whyNotHere
}

// Unwrap returns the wrapped listener.
func (l *listener) Unwrap() net.Listener { return l.Listener }

// chainListen returns a net.ListenConfig Control func that runs first, if
// set, and then then.
func chainListen(first, then func(string, string, syscall.RawConn) error) func(string, string, syscall.RawConn) error {
	if first == nil {
		return then
	}
	return func(network, address string, rc syscall.RawConn) error {
		if err := first(network, address, rc); err != nil {
			return err
		}
		return then(network, address, rc)
	}
}
