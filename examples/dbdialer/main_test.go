//go:build linux

package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive"
)

func startServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() { _ = serve(ln) }()
	return ln.Addr().String()
}

// The driver's real connection, dialed through the DialFunc, holds the
// Config that -within asked for.
func TestDriverConnHoldsConfig(t *testing.T) {
	addr := startServer(t)
	o, err := parse([]string{"-within", "40s"}, io.Discard)
	require.NoError(t, err)
	want, err := keepalive.Within(40 * time.Second)
	require.NoError(t, err)
	require.Equal(t, want, o.cfg)

	dialed := make(chan keepalive.State, 4)
	var out bytes.Buffer
	s, err := client(t.Context(), o, addr, func(c net.Conn) {
		st, err := keepalive.Get(c)
		if err != nil {
			t.Error(err)
		}
		dialed <- st
	}, &out)
	require.NoError(t, err)
	t.Log("\n" + out.String())
	require.Len(t, dialed, 1)
	require.Equal(t, keepalive.State{Enabled: true, Config: want}, <-dialed)
	require.Equal(t, keepalive.State{Enabled: true, Config: want}, s)
	require.True(t, strings.HasPrefix(out.String(), "PING -> PONG\nECHO hello -> hello\n"), out.String())
}

// The mysql-shaped dial func gives the same connections.
func TestAddrDialFunc(t *testing.T) {
	addr := startServer(t)
	cfg := keepalive.Config{Idle: 25 * time.Second, Interval: 5 * time.Second, Count: 2, UserTimeout: 35 * time.Second}
	var dial AddrDialFunc = addrDial(cfg.Dialer(&net.Dialer{Timeout: time.Second}))
	conn, err := Connect(t.Context(), DriverConfig{Addr: addr, DialFunc: func(ctx context.Context, _, addr string) (net.Conn, error) {
		return dial(ctx, addr)
	}})
	require.NoError(t, err)
	defer conn.Close()
	s, err := keepalive.Get(conn.NetConn())
	require.NoError(t, err)
	require.Equal(t, keepalive.State{Enabled: true, Config: cfg}, s)

	r, err := conn.Query(t.Context(), "ECHO x y")
	require.NoError(t, err)
	require.Equal(t, "x y", r)
	_, err = conn.Query(t.Context(), "DROP TABLE")
	require.EqualError(t, err, "unknown command DROP")
}

// Without a DialFunc the driver dials as Go does by default: 15 s idle,
// 15 s interval, 9 probes, and no user timeout.
func TestDefaultDialForContrast(t *testing.T) {
	addr := startServer(t)
	conn, err := Connect(t.Context(), DriverConfig{Addr: addr})
	require.NoError(t, err)
	defer conn.Close()
	s, err := keepalive.Get(conn.NetConn())
	require.NoError(t, err)
	require.Equal(t, keepalive.State{Enabled: true, Config: keepalive.Config{Idle: 15 * time.Second, Interval: 15 * time.Second, Count: 9}}, s)
}

const kernelLine = `  kernel holds: keepalive on, idle 30s, interval 10s, count 3, user timeout 1m0s: a vanished server is noticed within 1m0s`

func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), nil, &out, nil))
	t.Log("\n" + out.String())
	require.Regexp(t, regexp.MustCompile(`^server listening on (127\.0\.0\.1:\d+)
PING -> PONG
ECHO hello -> hello
connection 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+
`+regexp.QuoteMeta(kernelLine)+`
$`), out.String())
}

// A server and a client run separately, as from two command lines.
func TestServerAndClient(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0"}, io.Discard, func(a net.Addr) { addrc <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("server: %v", err)
	}
	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"-addr", addr.String()}, &out, nil))
	require.Contains(t, out.String(), " -> "+addr.String()+"\n"+kernelLine+"\n")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}
}

func TestRunErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-within", "1s"},
		{"-listen", "127.0.0.1:0", "-addr", "127.0.0.1:1"},
		{"extra"},
	} {
		require.Error(t, run(t.Context(), args, io.Discard, nil), "%q", args)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, ln.Close())
	err = run(t.Context(), []string{"-addr", ln.Addr().String()}, io.Discard, nil)
	require.ErrorContains(t, err, "connection refused")
}
