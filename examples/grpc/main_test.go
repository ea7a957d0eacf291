//go:build linux

package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive"
)

// The defaults: a server budget of 10 s, a client budget of 30 s.
var flags = []string{"-within", "10s", "-client-within", "30s"}

// keepalive.Within(15s) and keepalive.Within(5s) on Linux: the ping
// timeouts of client and server, whose UserTimeout gRPC sets anyway.
var (
	wantClient = keepalive.State{Enabled: true, Config: keepalive.Config{
		Idle: 9 * time.Second, Interval: 2 * time.Second, Count: 3, UserTimeout: 15 * time.Second,
	}}
	wantServer = keepalive.State{Enabled: true, Config: keepalive.Config{
		Idle: 2 * time.Second, Interval: time.Second, Count: 3, UserTimeout: 5 * time.Second,
	}}
)

// After a real RPC, both ends of the real connection hold their Config,
// gRPC's own TCP_USER_TIMEOUT included.
func TestDemo(t *testing.T) {
	o, err := parse(flags, io.Discard)
	require.NoError(t, err)
	var out bytes.Buffer
	e, err := demo(t.Context(), o, &out, nil)
	require.NoError(t, err)
	t.Log("\n" + out.String())
	require.Equal(t, wantClient, e.client)
	require.Equal(t, wantServer, e.server)
	require.Contains(t, out.String(), "health check: SERVING\n")
	require.Contains(t, out.String(), "kernel holds: keepalive on, idle 9s, interval 2s, count 3, user timeout 15s: a vanished peer is noticed within 15s\n")
	require.Contains(t, out.String(), "kernel holds: keepalive on, idle 2s, interval 1s, count 3, user timeout 5s: a vanished peer is noticed within 5s\n")
	require.Contains(t, out.String(), "gRPC keepalive: the client pings after 15s without a frame, also when idle, and waits 15s; the server after 5s, and waits 5s; it permits a ping per 10s\n")
}

// gRPC sets TCP_USER_TIMEOUT to its keepalive Timeout, over whatever the
// kernel Config said: a client whose Config says otherwise is refused
// before it dials.
func TestGRPCSetsUserTimeout(t *testing.T) {
	o, err := parse(flags, io.Discard)
	require.NoError(t, err)
	o.client.TCP.UserTimeout = 20 * time.Second
	_, err = demo(t.Context(), o, io.Discard, nil)
	require.ErrorIs(t, err, keepalive.ErrOutOfRange)
	require.ErrorContains(t, err, "gRPC-Go sets TCP_USER_TIMEOUT to the keepalive Timeout")
}

// A server and a client run separately, as from two command lines.
func TestServerAndClient(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var serverOut syncBuffer
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-listen", "127.0.0.1:0"}, flags...), &serverOut, func(a net.Addr) { addrc <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("server: %v", err)
	}

	var clientOut bytes.Buffer
	require.NoError(t, run(ctx, append([]string{"-target", addr.String()}, flags...), &clientOut, nil))
	t.Log("client:\n" + clientOut.String())
	require.Regexp(t, regexp.MustCompile(`^health check: SERVING
client 127\.0\.0\.1:\d+ -> `+regexp.QuoteMeta(addr.String())+`
  kernel holds: keepalive on, idle 9s, interval 2s, count 3, user timeout 15s: a vanished peer is noticed within 15s
$`), clientOut.String())

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}
	t.Log("server:\n" + serverOut.String())
	require.Regexp(t, `(?m)^accepted `+regexp.QuoteMeta(addr.String())+` -> 127\.0\.0\.1:\d+
  kernel holds: keepalive on, idle 2s, interval 1s, count 3, user timeout 5s`, serverOut.String())
}

func TestRunErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-client-within", "5s"}, // gRPC-Go pings a server 10 s after the last frame at the earliest
		{"-within", "1s"},
		{"-listen", "127.0.0.1:0", "-target", "127.0.0.1:1"},
	} {
		require.Error(t, run(t.Context(), args, io.Discard, nil), "%q", args)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, ln.Close())
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err = run(ctx, []string{"-target", ln.Addr().String()}, io.Discard, nil)
	require.ErrorContains(t, err, "connection refused")
}

// syncBuffer is a bytes.Buffer safe for a server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
