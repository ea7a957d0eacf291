//go:build linux

package keepalive

import (
	"net"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSystemDefaults(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("compared with /proc/sys/net/ipv4 on Linux only")
	}
	def, err := SystemDefaults()
	require.NoError(t, err)
	assert.Equal(t, systemDefaults(t), def, "the values in /proc")
	assert.Positive(t, def.Idle)
	assert.Positive(t, def.Interval)
	assert.Positive(t, def.Count)
	assert.Zero(t, def.UserTimeout)

	// A fresh socket holds them, and holds them off.
	c, s := pair(t)
	for _, conn := range []*net.TCPConn{c, s} {
		assert.Equal(t, State{Enabled: false, Config: def}, mustGet(t, conn))
	}
}

// checkStream is how most OSes without SO_PROTOCOL tell TCP; it works on
// every Unix, so it is tested for real here.
func TestCheckStream(t *testing.T) {
	check := func(t *testing.T, c syscall.Conn) error {
		t.Helper()
		rc, err := c.SyscallConn()
		require.NoError(t, err)
		var checkErr error
		require.NoError(t, rc.Control(func(fd uintptr) { checkErr = checkStream(fd) }))
		return checkErr
	}

	client, server := pair(t)
	assert.NoError(t, check(t, client))
	assert.NoError(t, check(t, server))
	ln, err := net.ListenTCP("tcp6", &net.TCPAddr{IP: net.IPv6loopback})
	if err == nil {
		defer ln.Close()
		assert.NoError(t, check(t, ln), "IPv6 listener")
	}

	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer udp.Close()
	err = check(t, udp)
	assert.ErrorIs(t, err, ErrNotTCP)
	assert.ErrorContains(t, err, "socket type")

	unixLn, err := net.ListenUnix("unix", &net.UnixAddr{Name: t.TempDir() + "/s", Net: "unix"})
	require.NoError(t, err)
	defer unixLn.Close()
	err = check(t, unixLn)
	assert.ErrorIs(t, err, ErrNotTCP)
	assert.ErrorContains(t, err, "*unix.SockaddrUnix socket")
}
