package main

import (
	"bufio"
	"bytes"
	"context"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logBuffer is a log destination safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// client is a raw protocol client for the tests.
type client struct {
	net.Conn
	lines *bufio.Scanner
}

func connect(t *testing.T, addr, id string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = c.Write([]byte("ID " + id + "\n"))
	require.NoError(t, err)
	return &client{c, bufio.NewScanner(c)}
}

func (c *client) say(t *testing.T, line, want string) {
	t.Helper()
	_, err := c.Write([]byte(line + "\n"))
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(2*time.Second)))
	require.True(t, c.lines.Scan(), "no answer to %q: %v", line, c.lines.Err())
	assert.Equal(t, want, c.lines.Text())
}

// closedWithin waits for the server to end c's connection.
func (c *client) closedWithin(t *testing.T, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	require.NoError(t, c.SetReadDeadline(start.Add(d)))
	for c.lines.Scan() {
	}
	var ne net.Error
	if err := c.lines.Err(); err != nil && assert.ErrorAs(t, err, &ne) {
		assert.False(t, ne.Timeout(), "the server did not close the connection within %v", d)
	}
	return time.Since(start)
}

func TestServer(t *testing.T) {
	o := options{timeout: time.Second, grace: 200 * time.Millisecond, keepalive: 10 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := listen(ctx, "127.0.0.1:0", o)
	require.NoError(t, err)
	var logs logBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, o, log.New(&logs, "", 0)) }()
	addr := ln.Addr().String()

	t.Run("heartbeat and echo", func(t *testing.T) {
		c := connect(t, addr, "a")
		c.say(t, "HeartBeat", "OK")
		c.say(t, "hello", "echo: hello")
	})
	t.Run("reconnect under the same name replaces the old connection", func(t *testing.T) {
		old := connect(t, addr, "b")
		old.say(t, "HeartBeat", "OK")
		fresh := connect(t, addr, "b")
		fresh.say(t, "HeartBeat", "OK")
		took := old.closedWithin(t, o.timeout/2)
		assert.Less(t, took, o.timeout/2)
		fresh.say(t, "still here", "echo: still here")
		assert.Contains(t, logs.String(), "b: evicted: replaced")
	})
	t.Run("silent client is evicted", func(t *testing.T) {
		c := connect(t, addr, "c")
		c.say(t, "HeartBeat", "OK")
		start := time.Now()
		c.closedWithin(t, 3*o.timeout)
		took := time.Since(start)
		assert.GreaterOrEqual(t, took, o.timeout)
		assert.Eventually(t, func() bool { return strings.Contains(logs.String(), "c: evicted: timed out") }, 2*time.Second, 10*time.Millisecond)
	})

	cancel()
	require.NoError(t, <-done)
	t.Log("\n" + logs.String())
}
