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

var flags = []string{"-idle", "20s", "-interval", "5s", "-count", "4", "-ping", "40s", "-ping-timeout", "15s"}

var want = keepalive.State{Enabled: true, Config: keepalive.Config{
	Idle: 20 * time.Second, Interval: 5 * time.Second, Count: 4, UserTimeout: 15 * time.Second,
}}

// After a real RPC, both ends of the real connection hold the Config.
func TestDemo(t *testing.T) {
	o, err := parse(flags, io.Discard)
	require.NoError(t, err)
	var out bytes.Buffer
	e, err := demo(t.Context(), o, &out, nil)
	require.NoError(t, err)
	t.Log("\n" + out.String())
	require.Equal(t, want, e.client)
	require.Equal(t, want, e.server)
	require.Contains(t, out.String(), "health check: SERVING\n")
	// The user timeout ends the probing: the first unanswered probe 15 s
	// after the peer was last heard, at 20 s + 5 s.
	require.Contains(t, out.String(), "kernel holds: keepalive on, idle 20s, interval 5s, count 4, user timeout 15s: a vanished peer is noticed within 25s\n")
}

// gRPC sets TCP_USER_TIMEOUT to its keepalive Timeout on both ends, over
// whatever the Config said: why the example sets UserTimeout to it.
func TestGRPCSetsUserTimeout(t *testing.T) {
	o, err := parse(flags, io.Discard)
	require.NoError(t, err)
	o.kernel.UserTimeout = time.Minute
	e, err := demo(t.Context(), o, io.Discard, nil)
	require.NoError(t, err)
	require.Equal(t, want, e.client)
	require.Equal(t, want, e.server)
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
  kernel holds: keepalive on, idle 20s, interval 5s, count 4, user timeout 15s: a vanished peer is noticed within 25s
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
  kernel holds: keepalive on, idle 20s, interval 5s, count 4, user timeout 15s`, serverOut.String())
}

func TestRunErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-count", "1000"},
		{"-listen", "127.0.0.1:0", "-target", "127.0.0.1:1"},
		{"-ping", "0s"},
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
