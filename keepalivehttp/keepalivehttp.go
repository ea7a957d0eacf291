// Package keepalivehttp turns one detection budget into the settings of
// every layer of a net/http connection, so that a peer that vanished is
// noticed within the budget whichever layer notices first, and no layer
// undoes another:
//
//   - kernel keepalive on the TCP connection, HTTP/1 and HTTP/2 alike:
//     [keepalive.Within] the budget, on every connection a [Budget.Transport]
//     dials and every connection a [Budget.Listen] listener accepts;
//   - HTTP/2 PING frames: net/http sends them only when
//     [http.HTTP2Config].SendPingTimeout is set, and it is zero (no pings) by
//     default, on the Transport and on the Server. [Budget.HTTP2Config]
//     sets it and PingTimeout so that an unanswered PING closes the
//     connection within the budget.
//
// PINGs prove more than TCP keepalive: that the peer process still reads and
// answers HTTP/2, through any proxy that ends the TCP connection. Kernel
// keepalive covers HTTP/1 connections, and goes on probing while the process
// is stuck. net/http leaves TCP_USER_TIMEOUT alone, so the kernel holds
// exactly what keepalive.Within returns.
//
// The package needs only the standard library, so it lives in the root
// module: using it adds no dependency.
package keepalivehttp

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-keepalive/keepalive"
)

// Budget is how each layer spends one detection budget. [Within] fills it;
// its fields may be adjusted, and every method first checks that they still
// fit the budget.
type Budget struct {
	// Within is the budget: a connection whose peer vanished is closed at
	// the latest this long after the peer was last heard from.
	Within time.Duration
	// TCP is the kernel keepalive Config of every connection:
	// keepalive.Within(Within), whose DetectionBound and UserTimeout are at
	// most Within.
	TCP keepalive.Config
	// PingAfter is how long a connection may go without a frame from the
	// peer before an HTTP/2 PING is sent (HTTP2Config.SendPingTimeout):
	// half the budget.
	PingAfter time.Duration
	// PingTimeout is how long the answer may take before the connection is
	// closed (HTTP2Config.PingTimeout): the other half.
	PingTimeout time.Duration
}

// Within returns the Budget that detects a vanished peer within d on every
// layer. The error is keepalive.Within's if the OS cannot keep d (on Linux d
// must be at least 2 s); it matches [keepalive.ErrOutOfRange] or
// [keepalive.ErrUnsupported].
func Within(d time.Duration) (Budget, error) {
	tcp, err := keepalive.Within(d)
	if err != nil {
		return Budget{}, err
	}
	return Budget{Within: d, TCP: tcp, PingAfter: d / 2, PingTimeout: d - d/2}, nil
}

// Validate reports whether every layer of b detects within b.Within: the
// TCP Config is valid on this OS, its DetectionBound and UserTimeout are at
// most Within, and PingAfter and PingTimeout are positive and add up to at
// most Within. The error matches [keepalive.ErrOutOfRange].
func (b Budget) Validate() error {
	if b.Within <= 0 {
		return fmt.Errorf("%w: keepalivehttp: budget %v is not positive (use Within)", keepalive.ErrOutOfRange, b.Within)
	}
	bound, err := b.TCP.DetectionBound()
	if err != nil {
		return err
	}
	if bound <= 0 || bound > b.Within {
		return fmt.Errorf("%w: keepalivehttp: kernel keepalive detects within %v, not within the %v budget", keepalive.ErrOutOfRange, bound, b.Within)
	}
	if b.TCP.UserTimeout > b.Within {
		return fmt.Errorf("%w: keepalivehttp: UserTimeout %v is over the %v budget", keepalive.ErrOutOfRange, b.TCP.UserTimeout, b.Within)
	}
	if b.PingAfter <= 0 || b.PingTimeout <= 0 || b.PingAfter+b.PingTimeout > b.Within {
		return fmt.Errorf("%w: keepalivehttp: HTTP/2 PING after %v, timeout %v: both must be positive and add up to at most the %v budget",
			keepalive.ErrOutOfRange, b.PingAfter, b.PingTimeout, b.Within)
	}
	return nil
}

// HTTP2Config returns a copy of base (an empty config if base is nil) with
// SendPingTimeout set to PingAfter and PingTimeout to PingTimeout. Use it as
// [http.Server].HTTP2 and [http.Transport].HTTP2; [Budget.Transport] does
// the latter.
func (b Budget) HTTP2Config(base *http.HTTP2Config) (*http.HTTP2Config, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	var c http.HTTP2Config
	if base != nil {
		c = *base
	}
	c.SendPingTimeout = b.PingAfter
	c.PingTimeout = b.PingTimeout
	return &c, nil
}

// Transport returns a clone of base (of [http.DefaultTransport] if base is
// nil) whose every connection holds TCP and whose HTTP/2 connections send
// PINGs as [Budget.HTTP2Config] says.
//
// A dial func already on base (DialContext, Dial, DialTLSContext, DialTLS)
// still dials, and TCP is applied to the connection it returns; otherwise
// TCP's [keepalive.Config.Dialer] dials, with base's settings (nil base: a
// 30 s dial timeout, as DefaultTransport's). The clone speaks the protocols
// base did: net/http turns HTTP/2 off by default on a Transport with its own
// dial func, so where base had HTTP/2 on by default, the clone has
// ForceAttemptHTTP2 set.
func (b Budget) Transport(base *http.Transport) (*http.Transport, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	if base == nil {
		d, err := b.TCP.Dialer(&net.Dialer{Timeout: 30 * time.Second})
		if err != nil {
			return nil, err
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = d.DialContext
		t.HTTP2, _ = b.HTTP2Config(t.HTTP2)
		return t, nil
	}
	// Before Clone: it sets base up for HTTP/2, TLSClientConfig included.
	h2ByDefault := base.Protocols == nil && base.TLSNextProto == nil && base.TLSClientConfig == nil && !hasDialer(base)
	t := base.Clone()
	t.HTTP2, _ = b.HTTP2Config(base.HTTP2)
	//lint:ignore SA1019 a Transport may still carry the deprecated Dial and DialTLS: they must keep dialing.
	dial, dialTLS := base.Dial, base.DialTLS
	switch {
	case base.DialContext != nil:
		t.DialContext = b.applying(base.DialContext)
	case dial != nil:
		t.DialContext = b.applying(func(_ context.Context, network, address string) (net.Conn, error) { return dial(network, address) })
	default:
		d, err := b.TCP.Dialer(nil)
		if err != nil {
			return nil, err
		}
		t.DialContext = d.DialContext
	}
	switch {
	case base.DialTLSContext != nil:
		t.DialTLSContext = b.applying(base.DialTLSContext)
	case dialTLS != nil:
		t.DialTLSContext = b.applying(func(_ context.Context, network, address string) (net.Conn, error) { return dialTLS(network, address) })
	}
	if h2ByDefault {
		t.ForceAttemptHTTP2 = true
	}
	return t, nil
}

func hasDialer(t *http.Transport) bool {
	//lint:ignore SA1019 the deprecated dial funcs count as custom dialers too, for net/http.
	return t.DialContext != nil || t.Dial != nil || t.DialTLSContext != nil || t.DialTLS != nil
}

// applying wraps dial so that TCP is applied to every connection it returns;
// one TCP cannot hold is closed, and the dial fails with Apply's error.
func (b Budget) applying(dial func(ctx context.Context, network, address string) (net.Conn, error)) func(ctx context.Context, network, address string) (net.Conn, error) {
	tcp := b.TCP
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := dial(ctx, network, address)
		if err != nil {
			return nil, err
		}
		if err := tcp.Apply(c); err != nil {
			_ = c.Close()
			return nil, err
		}
		return c, nil
	}
}

// Listen announces on the local network address and returns a listener
// whose accepted connections all hold TCP ([keepalive.Config.Listen]). Serve
// HTTP/2 on it with [http.Server].HTTP2 set from [Budget.HTTP2Config].
func (b Budget) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return b.TCP.Listen(ctx, nil, network, address)
}
