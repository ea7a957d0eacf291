package keepalive

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// Dialer returns a copy of base (a zero Dialer if base is nil) that applies c
// to every TCP socket it dials, before it connects. It dials every network
// base could: a UDP or Unix socket is dialed untouched, so that the copy
// also serves a [net.Resolver]'s Dial.
//
// The copy has KeepAlive set to -1 and KeepAliveConfig cleared: otherwise Go
// applies its own 15 s keepalive after connecting and silently overwrites c.
// A Control or ControlContext func already on base still runs, first, once
// per socket. A Config with UserTimeout dials plain TCP, not Multipath TCP
// (see [Config.Listen]).
func (c Config) Dialer(base *net.Dialer) *net.Dialer {
	var d net.Dialer
	if base != nil {
		d = *base
	}
	d.KeepAlive = -1
	d.KeepAliveConfig = net.KeepAliveConfig{}
	if c.UserTimeout != 0 {
		d.SetMultipathTCP(false)
	}
	d.ControlContext = c.chain(d.ControlContext, d.Control)
	d.Control = nil
	return &d
}

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
// A field the OS does not pass on cannot be set this way: if c has one,
// Listen fails with an error naming it. Use [Config.Listen] or wrap the
// listener with [Config.Listener] instead.
func (c Config) ListenConfig(base *net.ListenConfig) *net.ListenConfig {
	lc := c.listenCopy(base)
	if k, ok := c.notInherited(); ok {
		err := fmt.Errorf("keepalive: %s is not inherited by accepted sockets on %s: use Config.Listen or Config.Listener", fieldNames[k], native.goos)
		lc.Control = chainListen(lc.Control, tcpOnly(func(string, string, syscall.RawConn) error { return err }))
		return lc
	}
	lc.Control = chainListen(lc.Control, tcpOnly(c.Control))
	return lc
}

// listenCopy returns a copy of base (or of a zero ListenConfig) on which Go
// sets no keepalive of its own, and which makes plain TCP sockets if c has
// UserTimeout.
func (c Config) listenCopy(base *net.ListenConfig) *net.ListenConfig {
	var lc net.ListenConfig
	if base != nil {
		lc = *base
	}
	lc.KeepAlive = -1
	lc.KeepAliveConfig = net.KeepAliveConfig{}
	if c.UserTimeout != 0 {
		lc.SetMultipathTCP(false)
	}
	return &lc
}

// Listen announces on the local network address, like [net.Listen], and
// returns a listener whose accepted connections all hold c. It configures
// the listening socket once and, per accepted connection, sets only what
// the OS does not copy from the listener: on Linux nothing, so accepting
// costs no system call at all; elsewhere those knobs and SO_KEEPALIVE. base
// may be nil. network must be tcp, tcp4 or tcp6.
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
	// The listener gets what its accepted sockets inherit; the rest is set
	// on each of them.
	var onListener, perConn values
	onListener.missing = v.missing
	for k := range numKnobs {
		switch {
		case !v.set[k]:
		case native.knobs[k].inherited:
			onListener.v[k], onListener.set[k] = v.v[k], true
		default:
			perConn.v[k], perConn.set[k] = v.v[k], true
		}
	}
	lc := c.listenCopy(base)
	lc.Control = chainListen(lc.Control, func(network, address string, rc syscall.RawConn) error {
		op := sockOp{kind: opApply, v: onListener}
		return op.onRaw(rc)
	})
	l, err := lc.Listen(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if perConn == (values{}) {
		return l, nil
	}
	return &listener{Listener: l, v: perConn}, nil
}

// Listener wraps l so that every TCP connection it accepts gets c applied.
// Use it for a listener made elsewhere; for a new one, [Config.Listen] is
// cheaper. c is validated now, and a nil l is refused with ErrNotTCP.
//
// A zero field of c leaves what the accepted socket holds, which for a
// listener from net.Listen is Go's default (15s, 15s, 9 probes), not the
// OS's. A connection that is not TCP (from a Unix listener, say) is returned
// untouched. A TCP connection that cannot be configured is closed, and
// Accept returns the error, a *net.OpError naming the connection, which is
// temporary only if the OS's error is (a connection reset before it could be
// configured), so that a server such as net/http goes on accepting then and
// stops on a persistent failure. One that merely lacks an option (an MPTCP
// connection has no TCP_USER_TIMEOUT) is returned with the rest set, and Get
// on it says what it lacks.
func (c Config) Listener(l net.Listener) (net.Listener, error) {
	if isNil(l) {
		return nil, fmt.Errorf("%w: nil listener", ErrNotTCP)
	}
	v, err := c.values(native)
	if err != nil {
		return nil, err
	}
	return &listener{Listener: l, v: v}, nil
}

// listener applies values to every accepted TCP connection.
type listener struct {
	net.Listener
	v values
}

func (l *listener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	err = applyValues(conn, &l.v)
	switch {
	case err == nil, errors.Is(err, ErrUnsupported):
		return conn, nil
	case errors.Is(err, ErrNotTCP):
		return conn, nil // not ours to configure
	}
	conn.Close()
	return nil, err
}

// Unwrap returns the wrapped listener.
func (l *listener) Unwrap() net.Listener { return l.Listener }

// notInherited returns a non-zero knob of c that this OS does not copy from
// a listener to the sockets it accepts.
func (c Config) notInherited() (knob, bool) {
	fields := [numKnobs]int64{int64(c.Idle), int64(c.Interval), int64(c.Count), int64(c.UserTimeout)}
	for k, x := range fields {
		// A knob the OS lacks altogether is reported by Apply as
		// ErrUnsupported, not as a matter of inheritance.
		if x != 0 && native.knobs[k].name != "" && !native.knobs[k].inherited {
			return knob(k), true
		}
	}
	return 0, false
}

// chain returns a ControlContext func that runs the one already set (if
// any) and then, on a TCP socket, applies c.
func (c Config) chain(ctxFn func(context.Context, string, string, syscall.RawConn) error, fn func(string, string, syscall.RawConn) error) func(context.Context, string, string, syscall.RawConn) error {
	apply := tcpOnly(c.Control)
	return func(ctx context.Context, network, address string, rc syscall.RawConn) error {
		var err error
		switch {
		case ctxFn != nil:
			err = ctxFn(ctx, network, address, rc)
		case fn != nil:
			err = fn(network, address, rc)
		}
		if err != nil {
			return err
		}
		return apply(network, address, rc)
	}
}

// tcpOnly returns a Control func that runs apply for a TCP socket and leaves
// a socket of any other network alone.
func tcpOnly(apply func(string, string, syscall.RawConn) error) func(string, string, syscall.RawConn) error {
	return func(network, address string, rc syscall.RawConn) error {
		if !isTCPNetwork(network) {
			return nil
		}
		return apply(network, address, rc)
	}
}

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

// KeepAliveConfig converts c to Go's own [net.KeepAliveConfig], for
// [net.TCPConn.SetKeepAliveConfig] or the KeepAliveConfig field of a Dialer
// or ListenConfig. Enable is true; a zero field of c becomes -1, which
// leaves the value alone there too. UserTimeout has no counterpart and is
// dropped.
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
