//go:build linux

package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive"
)

var want = keepalive.Config{Idle: 20 * time.Second, Interval: 4 * time.Second, Count: 5, UserTimeout: 40 * time.Second}

var flags = []string{"-addr", "127.0.0.1:0", "-idle", "20s", "-interval", "4s", "-count", "5", "-user-timeout", "40s"}

// get makes one request on a new connection and returns the body.
func get(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	return string(body)
}

// The server's side of each real connection holds the Config, whether the
// listener came from Config.Listen or was wrapped with Config.Listener.
func TestAcceptedConnHoldsConfig(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		t.Run(map[bool]string{false: "Listen", true: "Listener"}[wrap], func(t *testing.T) {
			ln, err := listen(t.Context(), options{addr: "127.0.0.1:0", cfg: want, wrap: wrap})
			require.NoError(t, err)
			srv := newServer(log.New(io.Discard, "", 0))
			states := make(chan keepalive.State, 10)
			srv.ConnState = func(c net.Conn, s http.ConnState) {
				if s == http.StateNew {
					st, err := keepalive.Get(c)
					if err != nil {
						t.Error(err)
					}
					states <- st
				}
			}
			go func() { _ = srv.Serve(ln) }()
			t.Cleanup(func() { _ = srv.Close() })

			for range 3 {
				body := get(t, "http://"+ln.Addr().String()+"/")
				require.Contains(t, body, "this connection: keepalive on, idle 20s, interval 4s, count 5, user timeout 40s")
				require.Equal(t, keepalive.State{Enabled: true, Config: want}, <-states)
			}
		})
	}
}

// run parses the flags, serves, and shuts down when its context ends.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	addrc := make(chan net.Addr, 1)
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, flags, &logs, func(a net.Addr) { addrc <- a }) }()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}

	body := get(t, "http://"+addr.String()+"/")
	t.Log("\n" + body)
	require.True(t, strings.HasPrefix(body, "hello 127.0.0.1:"), body)
	bound, err := want.DetectionBound()
	require.NoError(t, err)
	require.Contains(t, body, "this connection: keepalive on, idle 20s, interval 4s, count 5, user timeout 40s: a vanished client is dropped within "+bound.String())

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	var out bytes.Buffer
	err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-count", "1000"}, &out, nil)
	require.ErrorIs(t, err, keepalive.ErrOutOfRange)
	require.EqualError(t, err, "keepalive: Count=1000 out of range for TCP_KEEPCNT on linux (1..127)")
}
