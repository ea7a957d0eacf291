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
// to every socket it dials, before it connects.
//
// The copy has KeepAlive set to -1 and KeepAliveConfig cleared: otherwise Go
// applies its own 15 s keepalive after connecting and silently overwrites c.
// A Control or ControlContext func already on base still runs, first.
func (c Config) Dialer(base *net.Dialer) *net.Dialer {
	var d net.Dialer
	if base != nil {
		d = *base
	}
	d.KeepAlive = -1
	d.KeepAliveConfig = net.KeepAliveConfig{}
	d.ControlContext = c.chain(d.ControlContext, d.Control)
	d.Control = nil
	return &d
}

// ListenConfig returns a copy of base (a zero ListenConfig if base is nil)
// that applies c to the listening socket.
//
// Where the OS copies a listener's keepalive settings to the sockets it
// accepts (Linux copies all of them), every accepted connection then holds c
// with no system call of its own. The copy has KeepAlive set to -1 so that
// Go does not overwrite those settings with its 15 s default after each
// Accept.
//
// A field the OS does not pass on cannot be set this way: if c has one,
// Listen fails with an error naming it. Use [Config.Listen] or wrap the
// listener with [Config.Listener] instead.
func (c Config) ListenConfig(base *net.ListenConfig) *net.ListenConfig {
	var lc net.ListenConfig
	if base != nil {
		lc = *base
	}
	lc.KeepAlive = -1
	lc.KeepAliveConfig = net.KeepAliveConfig{}
	if k, ok := c.notInherited(); ok {
		err := fmt.Errorf("keepalive: %s is not inherited by accepted sockets on %s: use Config.Listen or Config.Listener", fieldNames[k], native.goos)
		lc.Control = func(string, string, syscall.RawConn) error { return err }
		return &lc
	}
	lc.Control = chainListen(lc.Control, c.Control)
	return &lc
}

// Listen announces on the local network address, like [net.Listen], and
// returns a listener whose accepted connections all hold c. It configures
// the listening socket once and, per accepted connection, sets only what
// the OS does not copy from the listener: on Linux nothing, so accepting
// costs no system call at all; elsewhere those knobs and SO_KEEPALIVE. base
// may be nil.
func (c Config) Listen(ctx context.Context, base *net.ListenConfig, network, address string) (net.Listener, error) {
	v, err := c.values(native)
	if err != nil {
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
	var lc net.ListenConfig
	if base != nil {
		lc = *base
	}
	lc.KeepAlive = -1
	lc.KeepAliveConfig = net.KeepAliveConfig{}
	lc.Control = chainListen(lc.Control, func(network, address string, rc syscall.RawConn) error {
		if err := checkNetwork(network); err != nil {
			return err
		}
		return applyRaw(rc, onListener, false)
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

// Listener wraps l so that every connection it accepts gets c applied. Use it
// for a listener made elsewhere; for a new one, [Config.Listen] is cheaper.
//
// A zero field of c leaves what the accepted socket holds, which for a
// listener from net.Listen is Go's default (15s, 15s, 9 probes), not the
// OS's. A connection that cannot be configured is closed, and Accept returns
// an error that reports itself as temporary, so that servers such as
// net/http log it and go on accepting; one that merely lacks an option (an
// MPTCP connection has no TCP_USER_TIMEOUT) is returned with the rest set,
// and Get on it says what it lacks.
func (c Config) Listener(l net.Listener) net.Listener {
	v, err := c.values(native)
	return &listener{Listener: l, v: v, err: err}
}

// listener applies values to every accepted connection.
type listener struct {
	net.Listener
	v   values
	err error // from validation: every Accept fails with it
}

func (l *listener) Accept() (net.Conn, error) {
	if l.err != nil {
		return nil, l.err
	}
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if err := applyValues(conn, &l.v); err != nil && !errors.Is(err, ErrUnsupported) {
		conn.Close()
		return nil, &acceptError{err}
	}
	return conn, nil
}

// Unwrap returns the wrapped listener.
func (l *listener) Unwrap() net.Listener { return l.Listener }

// acceptError is a failure to configure one accepted connection. It is
// temporary: the listener itself is fine.
type acceptError struct{ err error }

func (e *acceptError) Error() string   { return e.err.Error() }
func (e *acceptError) Unwrap() error   { return e.err }
func (e *acceptError) Timeout() bool   { return false }
func (e *acceptError) Temporary() bool { return true }

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
// any) and then applies c.
func (c Config) chain(ctxFn func(context.Context, string, string, syscall.RawConn) error, fn func(string, string, syscall.RawConn) error) func(context.Context, string, string, syscall.RawConn) error {
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
		return c.Control(network, address, rc)
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
