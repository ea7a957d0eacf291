package keepalivehttp_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-keepalive/keepalive"
)

// Every connection the Transport dials holds TCP, through its own dialer or
// the base's, as read back from the kernel.
func TestTransportDials(t *testing.T) {
	b := within(t, 30*time.Second)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	own := &net.Dialer{KeepAlive: -1}
	for _, tc := range []struct {
		name string
		base *http.Transport
	}{
		{"nil", nil},
		{"no dialer", &http.Transport{}},
		{"DialContext", &http.Transport{DialContext: own.DialContext}},
		//lint:ignore SA1019 a Transport with the deprecated Dial must keep using it.
		{"Dial", &http.Transport{Dial: own.Dial}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := b.Transport(tc.base)
			require.NoError(t, err)
			c, err := tr.DialContext(context.Background(), "tcp", ln.Addr().String())
			require.NoError(t, err)
			defer c.Close()
			s, err := keepalive.Get(c)
			require.NoError(t, err)
			assert.True(t, s.Enabled)
			assert.Equal(t, b.TCP, s.Config)
		})
	}
}
