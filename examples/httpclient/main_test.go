//go:build linux

package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive"
)

func hello(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello\n") }

// run dials once, reuses the pooled connection, and the real connection
// holds the Config the flags asked for.
func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(hello))
	defer srv.Close()

	states := make(chan keepalive.State, 10)
	dialed := func(c net.Conn) {
		s, err := keepalive.Get(c)
		if err != nil {
			t.Error(err)
		}
		states <- s
	}
	var out bytes.Buffer
	args := []string{"-url", srv.URL, "-n", "3", "-idle", "15s", "-interval", "5s", "-count", "4", "-user-timeout", "35s"}
	require.NoError(t, run(t.Context(), args, &out, dialed))
	t.Log("\n" + out.String())

	want := keepalive.Config{Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 4, UserTimeout: 35 * time.Second}
	require.Len(t, states, 1, "one connection, reused")
	require.Equal(t, keepalive.State{Enabled: true, Config: want}, <-states)

	lines := regexp.MustCompile(`(?m)^request (\d): 200 OK, 6 bytes, (new|reused) connection 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+\n  kernel holds: (.*)$`).FindAllStringSubmatch(out.String(), -1)
	require.Len(t, lines, 3, out.String())
	for i, l := range lines {
		require.Equal(t, map[bool]string{true: "new", false: "reused"}[i == 0], l[2])
		require.Equal(t, "keepalive on, idle 15s, interval 5s, count 4, user timeout 35s: a vanished server is noticed within 35s", l[3])
	}
}

// What the doc comment says of http.DefaultTransport, for contrast.
func TestDefaultTransportForContrast(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(hello))
	defer srv.Close()
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	defer client.CloseIdleConnections()

	var conn net.Conn
	ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { conn = i.Conn }})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	s, err := keepalive.Get(conn)
	require.NoError(t, err)
	require.Equal(t, keepalive.State{Enabled: true, Config: keepalive.Config{Idle: 30 * time.Second, Interval: 15 * time.Second, Count: 9}}, s)
	require.Equal(t, 2*time.Minute+45*time.Second, s.DetectionBound())
}

func TestRunErrors(t *testing.T) {
	var out bytes.Buffer
	err := run(t.Context(), []string{"-count", "1000"}, &out, nil)
	require.ErrorIs(t, err, keepalive.ErrOutOfRange)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err = run(ctx, []string{"-url", "http://" + addr + "/"}, &out, nil)
	require.ErrorContains(t, err, "connection refused")
}
