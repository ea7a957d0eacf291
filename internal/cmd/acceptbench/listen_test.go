//go:build linux

package main

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive"
)

// Every listener serves, and its accepted connections hold what the
// comparison assumes: Go's default on plain, cfg on the others.
func TestListeners(t *testing.T) {
	lns, err := listen(t.Context(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0")
	require.NoError(t, err)
	require.Len(t, lns, 3)
	srv := newServer()
	states := make(chan keepalive.State, 3)
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			st, err := keepalive.Get(c)
			if err != nil {
				t.Error(err)
			}
			states <- st
		}
	}
	for _, l := range lns {
		go func() { _ = srv.Serve(l) }()
	}
	defer srv.Close()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	want := map[string]keepalive.Config{
		"plain":   {Idle: 15 * time.Second, Interval: 15 * time.Second, Count: 9},
		"helper":  cfg,
		"wrapped": cfg,
	}
	for _, l := range lns {
		resp, err := client.Get("http://" + l.Addr().String() + "/")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, "hello\n", string(body))
		require.Equal(t, keepalive.State{Enabled: true, Config: want[l.name]}, <-states, l.name)
	}
}
