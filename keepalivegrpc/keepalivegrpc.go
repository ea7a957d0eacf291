// Package keepalivegrpc turns one detection budget into gRPC-Go's keepalive
// settings and the kernel keepalive Config of the connections under them, so
// that a vanished peer is noticed within the budget at every layer and no
// layer undoes another:
//
//   - gRPC keepalive sends HTTP/2 PINGs after ClientParameters.Time
//     (ServerParameters.Time on a server) without a frame from the peer and
//     closes the connection when no frame arrives within Timeout.
//   - On Linux, gRPC-Go itself sets TCP_USER_TIMEOUT to that Timeout on
//     every connection it runs that is a *net.TCPConn: a client's, when
//     ClientParameters.Time is neither zero nor [Infinity]; a server's,
//     unless ServerParameters.Time is Infinity, so with the defaults to
//     20 s. That silently replaces whatever UserTimeout the
//     kernel Config had, and with it [keepalive.Config.DetectionBound]
//     (on Linux the user timeout also ends the keepalive probing): see
//     [ClientEffective] and [ServerEffective]. The Configs here have
//     UserTimeout equal to Timeout, so the kernel holds exactly them and
//     keepalive.Get reads them back.
//   - A server closes the connection of a client that pings more often than
//     its EnforcementPolicy permits (GOAWAY "too_many_pings"; by default
//     once per 5 minutes, and without an active RPC only 2 hours apart).
//     [CheckPolicy] says beforehand whether a client's parameters would be
//     refused.
//
// With both layers on, the kernel usually notices first: its bound is
// Timeout, and the first ping goes out only after Time. Where that ping goes
// out before the kernel's probing ends (a server whose Time equals its
// Timeout, as ServerWithin makes them for a budget of whole seconds), it is
// data in flight, which holds the kernel's keepalive timer off; the
// unanswered ping then closes the connection after Time+Timeout, still
// within the budget.
//
// gRPC-Go has floors of its own: a client pings at the earliest
// [ClientMinTime] (10 s) after the last frame, a server after
// [ServerMinTime] (1 s); it raises shorter values with only a log line.
// [ClientWithin] and [ServerWithin] refuse budgets that would need them.
package keepalivegrpc

import (
	"context"
	"fmt"
	"math"
	"net"
	"runtime"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	ka "github.com/go-keepalive/keepalive"
)

const (
	// ClientMinTime is the shortest ClientParameters.Time gRPC-Go uses:
	// grpc.WithKeepaliveParams raises a shorter one to it.
	ClientMinTime = 10 * time.Second
	// ServerMinTime is the shortest ServerParameters.Time gRPC-Go uses:
	// grpc.KeepaliveParams raises a shorter one to it.
	ServerMinTime = time.Second
	// Infinity as ClientParameters.Time or ServerParameters.Time turns
	// gRPC's pings off, and with them its TCP_USER_TIMEOUT. (A zero
	// ClientParameters.Time means Infinity too; a zero
	// ServerParameters.Time means 2 hours.)
	Infinity = time.Duration(math.MaxInt64)
)

// gRPC-Go's defaults, which the checks below must apply as gRPC does.
const (
	defaultTimeout        = 20 * time.Second // ClientParameters and ServerParameters
	defaultServerTime     = 2 * time.Hour
	defaultPolicyMinTime  = 5 * time.Minute
	pingsWithoutStreamGap = 2 * time.Hour // the only spacing a policy without PermitWithoutStream accepts
)

// grpcSetsUserTimeout is whether gRPC-Go sets TCP_USER_TIMEOUT itself: its
// internal/syscall does on Linux (and Android) only.
var grpcSetsUserTimeout = runtime.GOOS == "linux" || runtime.GOOS == "android"

// ClientEffective returns the Config a client connection dialed with cfg
// holds once gRPC-Go, running with p, has set TCP_USER_TIMEOUT: on Linux
// cfg with UserTimeout = p.Timeout (20 s if zero, whole milliseconds) unless
// p.Time is zero or Infinity; elsewhere cfg. Its DetectionBound is the
// kernel's real bound. (gRPC sets it only on a dialed *net.TCPConn; a
// dialer that returns another net.Conn type keeps cfg.)
func ClientEffective(cfg ka.Config, p keepalive.ClientParameters) ka.Config {
	if p.Time == 0 || p.Time == Infinity {
		return cfg
	}
	return withUserTimeout(cfg, p.Timeout)
}

// ServerEffective returns the Config a connection accepted with cfg holds
// once a gRPC-Go server running with p has set TCP_USER_TIMEOUT: on Linux
// cfg with UserTimeout = p.Timeout (20 s if zero, whole milliseconds) unless
// p.Time is Infinity; elsewhere cfg. (gRPC sets it only on an accepted
// *net.TCPConn.)
func ServerEffective(cfg ka.Config, p keepalive.ServerParameters) ka.Config {
	if p.Time == Infinity {
		return cfg
	}
	return withUserTimeout(cfg, p.Timeout)
}

func withUserTimeout(cfg ka.Config, timeout time.Duration) ka.Config {
	if !grpcSetsUserTimeout {
		return cfg
	}
	if timeout == 0 {
		timeout = defaultTimeout
	}
	cfg.UserTimeout = timeout.Truncate(time.Millisecond) // gRPC sets int(timeout/time.Millisecond)
	return cfg
}

// Client is what a gRPC client needs to notice a vanished server within a
// budget. [ClientWithin] fills it; its fields may be adjusted, and every
// method first checks that they still fit the budget ([Client.Validate]).
type Client struct {
	// Within is the budget: a connection whose server vanished is closed
	// at the latest this long after the server was last heard from.
	Within time.Duration
	// Keepalive are gRPC's pings: after Time without a frame, answered
	// within Timeout, Time+Timeout at most Within; on idle connections
	// too (PermitWithoutStream), so that an idle channel notices as well.
	// A zero Time turns them off, leaving detection to the kernel.
	Keepalive keepalive.ClientParameters
	// TCP is the kernel keepalive Config of every connection the client
	// dials: keepalive.Within(Keepalive.Timeout), whose UserTimeout is the
	// one gRPC sets on Linux. The kernel notices within Timeout, well
	// before the pings' Time+Timeout: pings add what TCP cannot see, a
	// peer process that stopped answering and a proxy between the two.
	TCP ka.Config
}

// ClientWithin returns the Client that notices a vanished server within d,
// through gRPC keepalive and kernel keepalive each. Half of d, and at least
// ClientMinTime, is spent before the ping, the rest waiting for its answer;
// that rest must be long enough for keepalive.Within on this OS (2 s on
// Linux), so d must be at least 12 s on Linux. The error matches
// [ka.ErrOutOfRange] or [ka.ErrUnsupported].
//
// For a shorter budget leave gRPC's client pings off and dial with
// keepalive.Within(d)'s Dialer: gRPC then leaves TCP_USER_TIMEOUT alone.
func ClientWithin(d time.Duration) (Client, error) {
	tcp, ping, err := split(d, ClientMinTime, "client")
	if err != nil {
		return Client{}, err
	}
	return Client{
		Within:    d,
		Keepalive: keepalive.ClientParameters{Time: d - ping, Timeout: ping, PermitWithoutStream: true},
		TCP:       tcp,
	}, nil
}

// split spends d on a ping sent after at least minTime and its timeout: it
// returns the timeout and the kernel Config for it, whose UserTimeout (if
// the OS has one) is that timeout.
func split(d, minTime time.Duration, who string) (ka.Config, time.Duration, error) {
	timeout := d - max(d/2, minTime)
	if timeout <= 0 {
		return ka.Config{}, 0, fmt.Errorf("%w: keepalivegrpc: a %s cannot detect within %v: gRPC-Go pings no sooner than %v after the last frame",
			ka.ErrOutOfRange, who, d, minTime)
	}
	tcp, err := ka.Within(timeout)
	if err != nil {
		return ka.Config{}, 0, fmt.Errorf("keepalivegrpc: a %s cannot detect within %v: gRPC-Go pings no sooner than %v after the last frame, which leaves %v for the answer and for the kernel: %w",
			who, d, minTime, timeout, err)
	}
	if tcp.UserTimeout > 0 {
		timeout = tcp.UserTimeout // rounded to the OS's unit, as gRPC will set it
	}
	return tcp, timeout, nil
}

// Validate reports whether every layer of c detects within c.Within, as
// gRPC-Go will run it: the pings (Time+Timeout at most Within, Time at
// least ClientMinTime, Timeout set), and the kernel's Config as gRPC leaves
// it ([ClientEffective]) valid and detecting within Within; on Linux TCP's
// UserTimeout must be Keepalive.Timeout, since gRPC sets it anyway. The
// error matches [ka.ErrOutOfRange].
func (c Client) Validate() error {
	p := c.Keepalive
	pings := p.Time != 0 && p.Time != Infinity
	if pings {
		if err := checkPings("client", c.Within, p.Time, p.Timeout, ClientMinTime); err != nil {
			return err
		}
	}
	return checkTCP("client", c.Within, c.TCP, ClientEffective(c.TCP, p))
}

// DialOptions returns the options that make a gRPC client run c: its
// keepalive parameters and [Client.Dial] as the context dialer.
func (c Client) DialOptions() ([]grpc.DialOption, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	opts := []grpc.DialOption{grpc.WithContextDialer(c.Dial)}
	if c.Keepalive.Time != 0 && c.Keepalive.Time != Infinity {
		opts = append(opts, grpc.WithKeepaliveParams(c.Keepalive))
	}
	return opts, nil
}

// Dial dials a TCP connection to addr that holds TCP from its first segment
// ([ka.Config.Dialer]). It is the context dialer DialOptions installs; wrap
// it to add your own (grpc.WithContextDialer).
func (c Client) Dial(ctx context.Context, addr string) (net.Conn, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	d, err := c.TCP.Dialer(nil)
	if err != nil {
		return nil, err
	}
	return d.DialContext(ctx, "tcp", addr)
}

// Server is what a gRPC server needs to notice a vanished client within a
// budget, and to accept the pings of clients made by [ClientWithin].
// [ServerWithin] fills it; its fields may be adjusted, and every method
// first checks that they still fit the budget ([Server.Validate]).
type Server struct {
	// Within is the budget: a connection whose client vanished is closed
	// at the latest this long after the client was last heard from.
	Within time.Duration
	// Keepalive are gRPC's pings: after Time without a frame, answered
	// within Timeout, Time+Timeout at most Within. Time Infinity turns
	// them off (and gRPC's TCP_USER_TIMEOUT with them); a zero Time is
	// gRPC's default, 2 hours, and over any budget.
	Keepalive keepalive.ServerParameters
	// Policy is how often clients may ping: at most once per
	// ClientMinTime, with or without active RPCs, which accepts every
	// client ClientWithin configures, whatever its budget.
	Policy keepalive.EnforcementPolicy
	// TCP is the kernel keepalive Config of every accepted connection:
	// keepalive.Within(Keepalive.Timeout), whose UserTimeout is the one
	// gRPC sets on Linux.
	TCP ka.Config
}

// ServerWithin returns the Server that notices a vanished client within d,
// through gRPC keepalive and kernel keepalive each. Half of d, and at least
// ServerMinTime, is spent before the ping, the rest waiting for its answer;
// that rest must be long enough for keepalive.Within on this OS (2 s on
// Linux), so d must be at least 4 s on Linux. The error matches
// [ka.ErrOutOfRange] or [ka.ErrUnsupported].
func ServerWithin(d time.Duration) (Server, error) {
	tcp, ping, err := split(d, ServerMinTime, "server")
	if err != nil {
		return Server{}, err
	}
	return Server{
		Within:    d,
		Keepalive: keepalive.ServerParameters{Time: d - ping, Timeout: ping},
		Policy:    keepalive.EnforcementPolicy{MinTime: ClientMinTime, PermitWithoutStream: true},
		TCP:       tcp,
	}, nil
}

// Validate reports whether every layer of s detects within s.Within, as
// gRPC-Go will run it, like [Client.Validate] (Time at least
// ServerMinTime). The error matches [ka.ErrOutOfRange].
func (s Server) Validate() error {
	p := s.Keepalive
	if p.Time == 0 {
		p.Time = defaultServerTime
	}
	if p.Time != Infinity {
		if err := checkPings("server", s.Within, p.Time, p.Timeout, ServerMinTime); err != nil {
			return err
		}
	}
	if s.Policy.MinTime < 0 {
		return fmt.Errorf("%w: keepalivegrpc: EnforcementPolicy.MinTime %v is negative", ka.ErrOutOfRange, s.Policy.MinTime)
	}
	return checkTCP("server", s.Within, s.TCP, ServerEffective(s.TCP, s.Keepalive))
}

// ServerOptions returns the options that make a gRPC server run s's
// keepalive parameters and enforcement policy. Serve on a listener from
// [Server.Listen], so that accepted connections hold TCP.
func (s Server) ServerOptions() ([]grpc.ServerOption, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return []grpc.ServerOption{grpc.KeepaliveParams(s.Keepalive), grpc.KeepaliveEnforcementPolicy(s.Policy)}, nil
}

// Listen announces on the local network address and returns a listener
// whose accepted connections all hold TCP ([ka.Config.Listen]).
func (s Server) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s.TCP.Listen(ctx, nil, network, address)
}

// Accepts reports whether the server lets c ping as it is configured to:
// [CheckPolicy] of c's parameters against s's policy.
func (s Server) Accepts(c Client) error { return CheckPolicy(c.Keepalive, s.Policy) }

func checkPings(who string, within, t, timeout, minTime time.Duration) error {
	switch {
	case t < minTime:
		return fmt.Errorf("%w: keepalivegrpc: %s keepalive Time %v is below gRPC-Go's minimum %v, to which gRPC raises it", ka.ErrOutOfRange, who, t, minTime)
	case timeout <= 0:
		return fmt.Errorf("%w: keepalivegrpc: %s keepalive Timeout %v: set it (gRPC's default is %v)", ka.ErrOutOfRange, who, timeout, defaultTimeout)
	case t > within || timeout > within-t:
		return fmt.Errorf("%w: keepalivegrpc: %s pings after %v and waits %v for the answer: over the %v budget", ka.ErrOutOfRange, who, t, timeout, within)
	}
	return nil
}

// checkTCP checks tcp and, where gRPC sets TCP_USER_TIMEOUT, that it
// already holds what gRPC sets (effective), and the kernel bound.
func checkTCP(who string, within time.Duration, tcp, effective ka.Config) error {
	if within <= 0 {
		return fmt.Errorf("%w: keepalivegrpc: %s budget %v is not positive (use ClientWithin or ServerWithin)", ka.ErrOutOfRange, who, within)
	}
	bound, err := tcp.DetectionBound()
	if err != nil {
		return err
	}
	if effective.UserTimeout != tcp.UserTimeout {
		return fmt.Errorf("%w: keepalivegrpc: %s TCP UserTimeout %v: gRPC-Go sets TCP_USER_TIMEOUT to the keepalive Timeout, %v, on %s; set UserTimeout to it",
			ka.ErrOutOfRange, who, tcp.UserTimeout, effective.UserTimeout, runtime.GOOS)
	}
	if bound <= 0 || bound > within {
		return fmt.Errorf("%w: keepalivegrpc: %s kernel keepalive detects within %v, not within the %v budget", ka.ErrOutOfRange, who, bound, within)
	}
	if tcp.UserTimeout > within {
		return fmt.Errorf("%w: keepalivegrpc: %s UserTimeout %v is over the %v budget", ka.ErrOutOfRange, who, tcp.UserTimeout, within)
	}
	return nil
}

// PolicyError says why a server with Policy would close the connections of
// a client with Client: at the third ping sooner than the policy permits
// since it last sent the client data, it sends GOAWAY with ENHANCE_YOUR_CALM and "too_many_pings" and closes
// the connection, failing its RPCs; the client then doubles its Time.
type PolicyError struct {
	Client keepalive.ClientParameters
	Policy keepalive.EnforcementPolicy
	Reason string
}

func (e *PolicyError) Error() string {
	return "keepalivegrpc: the server would close the client's connections with GOAWAY too_many_pings: " + e.Reason
}

// CheckPolicy reports whether a gRPC-Go server with policy p accepts the
// pings of a client with parameters c, applying gRPC-Go's defaults and
// floors (a zero c.Time sends no pings; a c.Time below ClientMinTime is
// ClientMinTime; a zero p.MinTime is 5 minutes). A client that would be
// sent away gets a [*PolicyError]:
//
//   - it pings, during RPCs, more often than once per p.MinTime;
//   - it pings without RPCs (c.PermitWithoutStream) and p does not permit
//     that: such pings must then be 2 hours apart.
func CheckPolicy(c keepalive.ClientParameters, p keepalive.EnforcementPolicy) error {
	t := c.Time
	if t == 0 || t == Infinity {
		return nil
	}
	t = max(t, ClientMinTime)
	minTime := p.MinTime
	if minTime == 0 {
		minTime = defaultPolicyMinTime
	}
	fail := func(format string, args ...any) error {
		return &PolicyError{Client: c, Policy: p, Reason: fmt.Sprintf(format, args...)}
	}
	if t < minTime {
		return fail("the client pings %v after the last frame during RPCs, the policy permits a ping per %v (EnforcementPolicy.MinTime)", t, minTime)
	}
	if c.PermitWithoutStream && !p.PermitWithoutStream && t < pingsWithoutStreamGap {
		return fail("the client pings %v after the last frame without RPCs (PermitWithoutStream), the policy permits that only %v apart (EnforcementPolicy.PermitWithoutStream is false)", t, pingsWithoutStreamGap)
	}
	return nil
}
