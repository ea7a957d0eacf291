package main

import (
	"bufio"
	"bytes"
	"context"
	"log"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive/heartbeat"
)

// fakeServer answers "HeartBeat" with "OK" while answering is set, and
// otherwise reads and says nothing, like a hung server whose kernel still
// acknowledges everything.
func fakeServer(t *testing.T, answering *atomic.Bool) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				lines := bufio.NewScanner(c)
				for lines.Scan() {
					if lines.Text() == "HeartBeat" && answering.Load() {
						c.Write([]byte("OK\n"))
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestClientDeclaresHungServerDead(t *testing.T) {
	var answering atomic.Bool
	answering.Store(true)
	addr := fakeServer(t, &answering)
	o := options{id: "t", idle: 200 * time.Millisecond, interval: 100 * time.Millisecond, count: 3, keepalive: 10 * time.Second}

	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), addr, o, log.New(&logs, "", 0)) }()

	// While the server answers, the client keeps the session.
	select {
	case err := <-done:
		t.Fatalf("client gave up on a live server: %v", err)
	case <-time.After(time.Second):
	}

	answering.Store(false)
	start := time.Now()
	select {
	case err := <-done:
		require.ErrorIs(t, err, heartbeat.ErrPeerDead)
		took := time.Since(start)
		// Idle, then Count pings Interval apart, then AnswerTimeout (= Interval).
		bound := o.idle + time.Duration(o.count)*o.interval
		assert.GreaterOrEqual(t, took, o.idle, "declared dead before any ping went unanswered")
		assert.Less(t, took, bound+time.Second)
	case <-time.After(5 * time.Second):
		t.Fatal("the client never declared the hung server dead")
	}
	assert.Contains(t, logs.String(), "server dead: heartbeat: peer dead")
}

func TestClientStopsWithContext(t *testing.T) {
	var answering atomic.Bool
	answering.Store(true)
	addr := fakeServer(t, &answering)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, addr, options{id: "t", idle: time.Second, interval: time.Second, count: 3, keepalive: 10 * time.Second}, log.New(&bytes.Buffer{}, "", 0))
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(2 * time.Second):
		t.Fatal("run did not stop with its context")
	}
}
