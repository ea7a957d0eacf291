package keepalivegrpc_test

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/keepalive"

	ka "github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/keepalivegrpc"
)

func TestClientWithin(t *testing.T) {
	for _, tc := range []struct {
		budget, time, timeout time.Duration
	}{
		{time.Minute, 30 * time.Second, 30 * time.Second},
		{30 * time.Second, 15 * time.Second, 15 * time.Second},
		// gRPC-Go's floor: never sooner than 10 s after the last frame.
		{15 * time.Second, 10 * time.Second, 5 * time.Second},
	} {
		c, err := keepalivegrpc.ClientWithin(tc.budget)
		require.NoError(t, err, tc.budget)
		require.NoError(t, c.Validate())
		tcp, err := ka.Within(tc.timeout)
		require.NoError(t, err)
		assert.Equal(t, keepalivegrpc.Client{
			Within:    tc.budget,
			Keepalive: keepalive.ClientParameters{Time: tc.time, Timeout: tc.timeout, PermitWithoutStream: true},
			TCP:       tcp,
		}, c, tc.budget)
		assert.LessOrEqual(t, bound(t, c.TCP), c.Keepalive.Timeout, "the kernel notices first")
	}
	_, err := keepalivegrpc.ClientWithin(10 * time.Second)
	assert.ErrorIs(t, err, ka.ErrOutOfRange, "nothing left for the answer")
	assert.ErrorContains(t, err, "no sooner than 10s")
}

func TestServerWithin(t *testing.T) {
	s, err := keepalivegrpc.ServerWithin(time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	tcp, err := ka.Within(30 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, keepalivegrpc.Server{
		Within:    time.Minute,
		Keepalive: keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 30 * time.Second},
		Policy:    keepalive.EnforcementPolicy{MinTime: keepalivegrpc.ClientMinTime, PermitWithoutStream: true},
		TCP:       tcp,
	}, s)

	_, err = keepalivegrpc.ServerWithin(time.Second)
	assert.ErrorIs(t, err, ka.ErrOutOfRange)
}

// Every client ClientWithin makes is accepted by the policy of every server
// ServerWithin makes.
func TestServerAcceptsClients(t *testing.T) {
	s, err := keepalivegrpc.ServerWithin(time.Minute)
	require.NoError(t, err)
	for _, d := range []time.Duration{30 * time.Second, time.Minute, time.Hour, 3 * time.Hour} {
		c, err := keepalivegrpc.ClientWithin(d)
		require.NoError(t, err)
		assert.NoError(t, s.Accepts(c), d)
	}
}

func TestCheckPolicy(t *testing.T) {
	type cp = keepalive.ClientParameters
	type ep = keepalive.EnforcementPolicy
	for _, tc := range []struct {
		name   string
		client cp
		policy ep
		reason string // "" if accepted
	}{
		{"no pings", cp{}, ep{}, ""},
		{"pings off", cp{Time: keepalivegrpc.Infinity, PermitWithoutStream: true}, ep{}, ""},
		{"default policy: 5 minutes", cp{Time: time.Minute}, ep{}, "permits a ping per 5m0s"},
		{"at the policy's MinTime", cp{Time: 5 * time.Minute}, ep{}, ""},
		{"below gRPC's floor counts as the floor", cp{Time: time.Second}, ep{MinTime: 10 * time.Second}, ""},
		{"floor still too often", cp{Time: time.Second}, ep{MinTime: 11 * time.Second}, "pings 10s after"},
		{"idle pings refused", cp{Time: time.Minute, PermitWithoutStream: true}, ep{MinTime: time.Minute}, "PermitWithoutStream is false"},
		{"idle pings permitted", cp{Time: time.Minute, PermitWithoutStream: true}, ep{MinTime: time.Minute, PermitWithoutStream: true}, ""},
		{"idle pings 2 hours apart", cp{Time: 2 * time.Hour, PermitWithoutStream: true}, ep{MinTime: time.Minute}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := keepalivegrpc.CheckPolicy(tc.client, tc.policy)
			if tc.reason == "" {
				assert.NoError(t, err)
				return
			}
			var pe *keepalivegrpc.PolicyError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.Equal(t, tc.client, pe.Client)
			assert.Equal(t, tc.policy, pe.Policy)
			assert.Contains(t, pe.Reason, tc.reason)
			assert.Contains(t, err.Error(), "too_many_pings")
		})
	}
}

// What gRPC-Go sets on Linux, and how it moves the kernel's bound.
func TestEffective(t *testing.T) {
	cfg, err := ka.Within(5 * time.Second)
	require.NoError(t, err)
	onLinux := func(ut time.Duration) time.Duration {
		if runtime.GOOS == "linux" {
			return ut
		}
		return cfg.UserTimeout
	}
	for _, tc := range []struct {
		name string
		got  ka.Config
		ut   time.Duration
	}{
		{"client, no keepalive", keepalivegrpc.ClientEffective(cfg, keepalive.ClientParameters{}), cfg.UserTimeout},
		{"client, keepalive", keepalivegrpc.ClientEffective(cfg, keepalive.ClientParameters{Time: time.Minute, Timeout: 1500 * time.Microsecond}), onLinux(time.Millisecond)},
		{"client, default timeout", keepalivegrpc.ClientEffective(cfg, keepalive.ClientParameters{Time: time.Minute}), onLinux(20 * time.Second)},
		{"server, defaults", keepalivegrpc.ServerEffective(cfg, keepalive.ServerParameters{}), onLinux(20 * time.Second)},
		{"server, pings off", keepalivegrpc.ServerEffective(cfg, keepalive.ServerParameters{Time: keepalivegrpc.Infinity}), cfg.UserTimeout},
	} {
		want := cfg
		want.UserTimeout = tc.ut
		assert.Equal(t, want, tc.got, tc.name)
	}
	if runtime.GOOS == "linux" {
		// Within(5s) is {Idle 2s, Interval 1s, Count 3, UserTimeout 5s}:
		// gRPC's default 20 s makes the kernel probe until 20 s.
		srv := keepalivegrpc.ServerEffective(cfg, keepalive.ServerParameters{})
		assert.Equal(t, 5*time.Second, bound(t, cfg))
		assert.Equal(t, 20*time.Second, bound(t, srv))
	}
}

// A Client or Server adjusted past its budget, or as gRPC would not run it,
// is refused by every method.
func TestValidate(t *testing.T) {
	c, err := keepalivegrpc.ClientWithin(30 * time.Second)
	require.NoError(t, err)
	s, err := keepalivegrpc.ServerWithin(30 * time.Second)
	require.NoError(t, err)
	clients := map[string]func(*keepalivegrpc.Client){
		"zero":               func(c *keepalivegrpc.Client) { *c = keepalivegrpc.Client{} },
		"below gRPC's floor": func(c *keepalivegrpc.Client) { c.Keepalive.Time = 5 * time.Second },
		"no timeout":         func(c *keepalivegrpc.Client) { c.Keepalive.Timeout = 0 },
		"pings over budget":  func(c *keepalivegrpc.Client) { c.Keepalive.Time = 20 * time.Second },
		"kernel over budget": func(c *keepalivegrpc.Client) { c.TCP.Idle = time.Hour },
		"invalid kernel":     func(c *keepalivegrpc.Client) { c.TCP.Count = -1 },
		"pings off, UT over": func(c *keepalivegrpc.Client) {
			c.Keepalive = keepalive.ClientParameters{}
			c.TCP.UserTimeout = time.Minute
		},
		"UT not gRPC's (any)": func(c *keepalivegrpc.Client) { c.TCP.UserTimeout = time.Minute },
	}
	for name, adjust := range clients {
		x := c
		adjust(&x)
		assert.ErrorIs(t, x.Validate(), ka.ErrOutOfRange, name)
		opts, err := x.DialOptions()
		assert.Nil(t, opts, name)
		assert.Error(t, err, name)
		conn, err := x.Dial(t.Context(), "127.0.0.1:1")
		assert.Nil(t, conn, name)
		assert.Error(t, err, name)
	}
	servers := map[string]func(*keepalivegrpc.Server){
		"zero":               func(s *keepalivegrpc.Server) { *s = keepalivegrpc.Server{} },
		"gRPC's 2 hours":     func(s *keepalivegrpc.Server) { s.Keepalive.Time = 0 },
		"below gRPC's floor": func(s *keepalivegrpc.Server) { s.Keepalive.Time = time.Millisecond },
		"pings over budget":  func(s *keepalivegrpc.Server) { s.Keepalive.Timeout = 20 * time.Second },
		"negative MinTime":   func(s *keepalivegrpc.Server) { s.Policy.MinTime = -1 },
		"kernel over budget": func(s *keepalivegrpc.Server) { s.TCP.Idle = time.Hour },
	}
	for name, adjust := range servers {
		x := s
		adjust(&x)
		assert.ErrorIs(t, x.Validate(), ka.ErrOutOfRange, name)
		opts, err := x.ServerOptions()
		assert.Nil(t, opts, name)
		assert.Error(t, err, name)
		ln, err := x.Listen(t.Context(), "tcp", "127.0.0.1:0")
		assert.Nil(t, ln, name)
		assert.Error(t, err, name)
	}
	// Pings off on both: the kernel alone, which gRPC then leaves alone.
	c.Keepalive = keepalive.ClientParameters{}
	assert.NoError(t, c.Validate())
	s.Keepalive.Time = keepalivegrpc.Infinity
	assert.NoError(t, s.Validate())
}

func bound(t *testing.T, c ka.Config) time.Duration {
	t.Helper()
	b, err := c.DetectionBound()
	require.NoError(t, err)
	return b
}
