//go:build linux || windows

package keepalive

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// pair returns both ends of a fresh loopback TCP connection on which Go has
// set no keepalive of its own, so the sockets hold the OS defaults.
func pair(t testing.TB) (client, server *net.TCPConn) {
	t.Helper()
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return dialAccept(t, ln, &net.Dialer{KeepAlive: -1})
}

// dialAccept dials ln with d and returns both ends, closed at cleanup.
func dialAccept(t testing.TB, ln net.Listener, d *net.Dialer) (client, server *net.TCPConn) {
	t.Helper()
	type result struct {
		c   net.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		accepted <- result{c, err}
	}()
	c, err := d.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	r := <-accepted
	require.NoError(t, r.err)
	t.Cleanup(func() { c.Close(); r.c.Close() })
	return c.(*net.TCPConn), r.c.(*net.TCPConn)
}
