// Package keepalivews turns one detection budget into the settings of both
// layers of a [github.com/coder/websocket] connection, so that a peer that
// vanished is noticed within the budget whichever layer notices first:
//
//   - kernel keepalive on the TCP connection: [keepalive.Within] the
//     budget, on every connection [Budget.DialOptions]' client dials and
//     every connection a [Budget.Listen] listener accepts;
//   - WebSocket pings: coder/websocket answers them but sends none of its
//     own, only when Conn.Ping is called. [Budget.Ping] pings at
//     PingInterval and closes the connection when a pong takes longer than
//     PingTimeout.
//
// Pings prove more than TCP keepalive: that the peer process still reads
// and answers, through any proxy that ends the TCP connection. Kernel
// keepalive goes on probing while the process is stuck, and costs no
// goroutine.
package keepalivews

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/coder/websocket"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/keepalivehttp"
)

// ErrNoPong is what [Budget.Ping] returns (wrapped) when a pong did not
// arrive within PingTimeout and it closed the connection.
var ErrNoPong = errors.New("keepalivews: no pong within the ping timeout")

// Budget is how each layer spends one detection budget. [Within] fills it;
// its fields may be adjusted, and every method first checks that they still
// fit the budget ([Budget.Validate]).
type Budget struct {
	// Within is the budget: a connection whose peer vanished is closed at
	// the latest this long after the peer last answered.
	Within time.Duration
	// TCP is the kernel keepalive Config of every connection:
	// keepalive.Within(Within), whose DetectionBound and UserTimeout are at
	// most Within.
	TCP keepalive.Config
	// PingInterval is how long after the last pong (or the start) the next
	// ping is sent: half the budget.
	PingInterval time.Duration
	// PingTimeout is how long the pong may take before the connection is
	// closed: the other half.
	PingTimeout time.Duration
}

// Within returns the Budget that detects a vanished peer within d on both
// layers. The error is keepalive.Within's if the OS cannot keep d (on Linux
// d must be at least 2 s); it matches [keepalive.ErrOutOfRange] or
// [keepalive.ErrUnsupported].
func Within(d time.Duration) (Budget, error) {
	b, err := keepalivehttp.Within(d)
	if err != nil {
		return Budget{}, err
	}
	return Budget{Within: d, TCP: b.TCP, PingInterval: b.PingAfter, PingTimeout: b.PingTimeout}, nil
}

// http is b as keepalivehttp sees it: the same kernel Config, the ping
// after PingInterval, answered within PingTimeout. Its Validate is b's.
func (b Budget) http() keepalivehttp.Budget {
	return keepalivehttp.Budget{Within: b.Within, TCP: b.TCP, PingAfter: b.PingInterval, PingTimeout: b.PingTimeout}
}

// Validate reports whether both layers of b detect within b.Within: the TCP
// Config is valid on this OS, its DetectionBound and UserTimeout are at most
// Within, and PingInterval and PingTimeout are positive and add up to at
// most Within. The error matches [keepalive.ErrOutOfRange].
func (b Budget) Validate() error {
	if err := b.http().Validate(); err != nil {
		return fmt.Errorf("keepalivews: %w", err)
	}
	return nil
}

// Listen announces on the local network address and returns a listener
// whose accepted connections all hold TCP ([keepalive.Config.Listen]):
// serve the handler that calls websocket.Accept on it.
func (b Budget) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return b.TCP.Listen(ctx, nil, network, address)
}

// Ping watches c's peer until ctx is done or c is closed: PingInterval
// after the last pong (or the call) it pings, and if the pong takes longer
// than PingTimeout it closes c at once (Conn.CloseNow), so that c's Reader
// and Read fail too, and returns an error matching [ErrNoPong]. A peer that
// vanished is thus noticed within PingInterval+PingTimeout of its last
// pong. Run it in a goroutine of its own per connection.
//
// As for Conn.Ping, c must be read concurrently (Reader, Read or
// CloseRead): the pong is read by the reader. Ping returns ctx's error
// when ctx is done, and the ping's error when c was closed or failed
// otherwise.
func (b Budget) Ping(ctx context.Context, c *websocket.Conn) error {
	if err := b.Validate(); err != nil {
		return err
	}
	if c == nil {
		return errors.New("keepalivews: Ping of a nil *websocket.Conn")
	}
	interval := time.NewTimer(b.PingInterval)
	defer interval.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-interval.C:
		}
		pingCtx, cancel := context.WithTimeout(ctx, b.PingTimeout)
		err := c.Ping(pingCtx)
		timedOut := errors.Is(pingCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		switch {
		case err == nil:
			interval.Reset(b.PingInterval)
		case timedOut:
			_ = c.CloseNow()
			return fmt.Errorf("%w (%v): closed the connection: %v", ErrNoPong, b.PingTimeout, err)
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			return err
		}
	}
}
