package keepalive

import (
	"context"
	"errors"
	"net"
	"syscall"
)

// The helpers below validate c when they are built and return the same
// errors Apply would, then: a *RangeError (and no helper) for an invalid
// Config; an *UnsupportedError, matching ErrUnsupported, for fields the
// sockets they make cannot hold, together with a helper that works and
// sets everything else. Each socket they make then holds exactly that; a
// socket that holds less fails its Dial or Listen. (Listener, which makes no
// socket, hands on an accepted connection that lacks an option of its kind:
// see [Config.Listener].)

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
//
// c is validated now, not at each Dial: an invalid Config gives a
// *RangeError and no Dialer; fields this OS has no per-socket option for
// give a working Dialer, which sets the rest, with the *UnsupportedError
// that names them. A dial whose socket holds less than that fails.
func (c Config) Dialer(base *net.Dialer) (*net.Dialer, error) {
	v, err := c.values(native)
	if err != nil {
		return nil, err
	}
	d := copyOf(base)
	d.KeepAlive, d.KeepAliveConfig = -1, net.KeepAliveConfig{}
	c.protocolFor(d)
	announced := v.shortfall(native, 0, nil)
	d.ControlContext = chain(d.ControlContext, d.Control, applyControl(v, announced))
	d.Control = nil
	return d, announced
}

// copyOf returns a copy of *base, or of a zero T if base is nil.
func copyOf[T any](base *T) *T {
	var x T
	if base != nil {
		x = *base
	}
	return &x
}

// protocolFor makes s (a Dialer or ListenConfig) use plain TCP if c has
// UserTimeout, which Linux has no option for on Multipath TCP sockets.
func (c Config) protocolFor(s interface{ SetMultipathTCP(bool) }) {
	if c.UserTimeout != 0 {
		s.SetMultipathTCP(false)
	}
}

// applyControl returns a Control func that applies v to a socket known to
// be TCP, taking no more than the announced shortfall.
func applyControl(v values, announced error) func(string, string, syscall.RawConn) error {
	return func(_, _ string, rc syscall.RawConn) error {
		op := sockOp{kind: opApply, v: v}
		if err := op.onRaw(rc); !tolerated(err, announced) {
			return err
		}
		return nil
	}
}

// tolerated reports whether err is nil or no more than the shortfall
// announced when a helper was built: nothing missing that announced did not
// name, and keepalive on unless announced said it could not be.
func tolerated(err, announced error) bool {
	if err == nil {
		return true
	}
	var got, want *UnsupportedError
	return errors.As(err, &got) && errors.As(announced, &want) &&
		got.Missing&^want.Missing == 0 && (got.Enabled || !want.Enabled)
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

// chain returns a ControlContext func that runs the one already set (if
// any) and then, on a TCP socket, apply.
func chain(ctxFn func(context.Context, string, string, syscall.RawConn) error, fn, apply func(string, string, syscall.RawConn) error) func(context.Context, string, string, syscall.RawConn) error {
	apply = tcpOnly(apply)
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
