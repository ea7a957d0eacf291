//go:build linux

package keepalivetest

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/internal/tcpinfo"
)

// echoServerEnv makes the test binary an echo server in a process of its own
// (see TestMain): the real server in another process that a client-only test
// makes vanish.
const echoServerEnv = "KEEPALIVETEST_ECHO_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(echoServerEnv) == "1" {
		os.Exit(echoServer())
	}
	// Run the examples too where only a namespace grants the capability.
	if err := IsolateProcess(); err != nil {
		fmt.Fprintf(os.Stderr, "keepalivetest: %v; tests will skip and examples fail\n", err)
	}
	os.Exit(m.Run())
}

// echoServer listens on loopback, prints its address, echoes every
// connection and reports on stdout what each connection received and how it
// ended, one line each ("got N", "ended: err"). It exits when stdin closes,
// that is when the test that started it ends.
func echoServer() int {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		return 1
	}
	fmt.Println(ln.Addr())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Println("accept:", err)
			return 1
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 1024)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					fmt.Println("got", n)
					if _, err := c.Write(buf[:n]); err != nil {
						fmt.Println("ended:", err)
						return
					}
				}
				if err != nil {
					fmt.Println("ended:", err)
					return
				}
			}
		}()
	}
}

// remoteServer is an echo server running in a child process.
type remoteServer struct {
	addr  string
	lines chan string // what the server reports, line by line
}

// startRemoteServer starts the test binary as an echo server in a child
// process, in the test's own network namespace, and stops it when t ends.
func startRemoteServer(t *testing.T) *remoteServer {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), echoServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	s := &remoteServer{lines: make(chan string, 100)}
	lines := bufio.NewScanner(stdout)
	require.True(t, lines.Scan(), "the echo server printed no address")
	s.addr = lines.Text()
	go func() {
		for lines.Scan() {
			s.lines <- lines.Text()
		}
		close(s.lines)
	}()
	require.NotEqual(t, os.Getpid(), cmd.Process.Pid)
	return s
}

// expect waits up to limit for the server to report a line starting with
// prefix and returns it.
func (s *remoteServer) expect(t *testing.T, prefix string, limit time.Duration) string {
	t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case line, ok := <-s.lines:
			require.True(t, ok, "the echo server exited while waiting for %q", prefix)
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-deadline:
			t.Fatalf("the echo server did not report %q within %v", prefix, limit)
			return ""
		}
	}
}

// dialRemote connects to s with cfg and checks that the echo works.
func dialRemote(t *testing.T, s *remoteServer, cfg keepalive.Config) *net.TCPConn {
	t.Helper()
	d, err := dialerFor(cfg)
	require.NoError(t, err)
	c, err := d.Dial("tcp4", s.addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	conn := c.(*net.TCPConn)
	_, err = conn.Write([]byte("hello"))
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = io.ReadFull(conn, make([]byte, 5))
	require.NoError(t, err, "the echo server does not echo")
	require.NoError(t, conn.SetReadDeadline(time.Time{}))
	s.expect(t, "got 5", 5*time.Second)
	return conn
}

// dialerFor returns a dialer that applies cfg.
func dialerFor(cfg keepalive.Config) (*net.Dialer, error) {
	return cfg.Dialer(nil)
}

// boundOf returns cfg's detection bound, which the test's own Config must
// have.
func boundOf(t *testing.T, cfg keepalive.Config) time.Duration {
	t.Helper()
	bound, err := cfg.DetectionBound()
	require.NoError(t, err)
	require.Positive(t, bound)
	return bound
}

// readFails blocks in Read on conn until the connection fails or limit
// passes, and returns the error and how long it took from start.
func readFails(t *testing.T, conn net.Conn, start time.Time, limit time.Duration) (time.Duration, error) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(start.Add(limit)))
	n, err := conn.Read(make([]byte, 1))
	require.Zero(t, n, "data arrived from a vanished peer")
	return time.Since(start), err
}

// assertRatio checks that took is within [lo, hi] times bound and logs the
// ratio.
func assertRatio(t *testing.T, what string, took, bound time.Duration, lo, hi float64) {
	t.Helper()
	ratio := float64(took) / float64(bound)
	t.Logf("%s: %.2fs, bound %v, ratio %.2f", what, took.Seconds(), bound, ratio)
	assert.GreaterOrEqual(t, ratio, lo, "%s after %v, before the bound %v", what, took, bound)
	assert.LessOrEqual(t, ratio, hi, "%s after %v, bound %v", what, took, bound)
}

// A client that holds only its own end makes a server in another process
// vanish: Vanish on the client's socket alone.
func TestVanishServerInAnotherProcess(t *testing.T) {
	t.Parallel()
	if RunIsolated(t) {
		return
	}

	t.Run("nothing comes back, what the client sends still arrives", func(t *testing.T) {
		t.Parallel()
		server := startRemoteServer(t)
		conn := dialRemote(t, server, keepalive.Config{})
		require.NoError(t, Vanish(conn))

		_, err := conn.Write([]byte("ping"))
		require.NoError(t, err)
		server.expect(t, "got 4", 5*time.Second) // the server got it and echoed it...
		_, err = readFails(t, conn, time.Now(), time.Second)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded, "...but the echo must not arrive")

		// Nothing the server sends is acknowledged, not even by TCP: its
		// echo and the ACKs of "ping" are dropped, so the client keeps
		// retransmitting "ping" to a server that already has it.
		info, err := tcpinfo.Get(conn)
		require.NoError(t, err)
		assert.Positive(t, info.Total_retrans, "the client must retransmit: the server's ACKs are dropped")
	})

	t.Run("idle connection is dropped by keepalive", func(t *testing.T) {
		t.Parallel()
		server := startRemoteServer(t)
		cfg := keepalive.Config{Idle: time.Second, Interval: time.Second, Count: 2}
		conn := dialRemote(t, server, cfg)
		start := time.Now()
		require.NoError(t, Vanish(conn))

		bound := boundOf(t, cfg)
		took, err := readFails(t, conn, start, bound+5*time.Second)
		require.ErrorIs(t, err, syscall.ETIMEDOUT)
		assert.True(t, keepalive.IsDeadPeer(err))
		assertRatio(t, "vanished server detected", took, bound, 1.0, 1.15)

		// The client's kernel resets the connection when it gives up, and
		// that reaches the real server: it is not left with a dead session.
		server.expect(t, "ended: ", 2*time.Second)
	})

	t.Run("data in flight is dropped by the user timeout", func(t *testing.T) {
		t.Parallel()
		server := startRemoteServer(t)
		cfg := keepalive.Config{Idle: 5 * time.Second, Interval: time.Second, Count: 5, UserTimeout: 2 * time.Second}
		conn := dialRemote(t, server, cfg)
		require.NoError(t, Vanish(conn))
		start := time.Now()
		_, err := conn.Write([]byte("query"))
		require.NoError(t, err)

		took, err := readFails(t, conn, start, cfg.UserTimeout+5*time.Second)
		require.ErrorIs(t, err, syscall.ETIMEDOUT)
		// The kernel checks the user timeout when a retransmission timer
		// fires, so it lands up to one backed-off RTO late.
		assertRatio(t, "query in flight failed", took, cfg.UserTimeout, 1.0, 1.5)

		// No reset is sent when the user timeout fires, but no socket
		// matches the connection any more: the server's next
		// retransmission of its echo is answered with RST.
		ended := time.Now()
		server.expect(t, "ended: ", 10*time.Second)
		t.Logf("the server learned %v after the client gave up", time.Since(ended).Round(time.Millisecond))
	})

	t.Run("reappearing server answers again", func(t *testing.T) {
		t.Parallel()
		server := startRemoteServer(t)
		conn := dialRemote(t, server, keepalive.Config{})
		require.NoError(t, Vanish(conn))
		_, err := conn.Write([]byte("x"))
		require.NoError(t, err)
		_, err = readFails(t, conn, time.Now(), time.Second)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)

		require.NoError(t, Reappear(conn))
		back := time.Now()
		require.NoError(t, conn.SetReadDeadline(back.Add(10*time.Second)))
		buf := make([]byte, 1)
		_, err = io.ReadFull(conn, buf)
		require.NoError(t, err, "the server's retransmitted echo must arrive")
		assert.Equal(t, "x", string(buf))
		t.Logf("echo arrived %v after Reappear", time.Since(back).Round(time.Millisecond))
	})
}

// With both ends held, Vanish on the server's socket makes the client
// unheard; Reappear delivers what was lost.
func TestVanishUntilReappear(t *testing.T) {
	t.Parallel()
	if RunIsolated(t) {
		return
	}
	client, server := Pair(t)
	require.NoError(t, Vanish(server))

	_, err := client.Write([]byte{42})
	require.NoError(t, err)

	// Nothing reaches the server...
	buf := make([]byte, 1)
	_, err = readFails(t, server, time.Now(), time.Second)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)

	// ...and the server never acknowledged it: the client is still
	// retransmitting into the void.
	info, err := tcpinfo.Get(client)
	require.NoError(t, err)
	assert.Positive(t, info.Unacked, "the byte must stay unacknowledged")
	assert.Positive(t, info.Total_retrans, "the client must have retransmitted the byte")

	// Once back, the next retransmission gets through on its own.
	require.NoError(t, Reappear(server))
	back := time.Now()
	require.NoError(t, server.SetReadDeadline(back.Add(10*time.Second)))
	_, err = io.ReadFull(server, buf)
	require.NoError(t, err)
	require.Equal(t, byte(42), buf[0])
	t.Logf("byte delivered %v after Reappear", time.Since(back).Round(time.Millisecond))
	assert.Eventually(t, func() bool {
		info, err := tcpinfo.Get(client)
		return err == nil && info.Unacked == 0
	}, 2*time.Second, 10*time.Millisecond, "the client's data must end up acknowledged")

	// A second Reappear has nothing to detach.
	require.ErrorIs(t, Reappear(server), unix.ENOENT)
}

// Either end can be cut off: with the filter on the detecting end or on
// the silent far end, keepalive detects within the same bound, and a live
// peer (the control) is never dropped.
func TestVanishIsDetectedByKeepalive(t *testing.T) {
	t.Parallel()
	if RunIsolated(t) {
		return
	}
	cfg := keepalive.Config{Idle: time.Second, Interval: time.Second, Count: 2}
	for _, tc := range []struct {
		name     string
		vanished func(client, server *net.TCPConn) net.Conn
	}{
		{"filter on the detecting end", func(client, _ *net.TCPConn) net.Conn { return client }},
		{"filter on the far end", func(_, server *net.TCPConn) net.Conn { return server }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client, server := Pair(t)
			require.NoError(t, cfg.Apply(client))
			start := time.Now()
			require.NoError(t, Vanish(tc.vanished(client, server)))

			bound := boundOf(t, cfg)
			took, err := readFails(t, client, start, bound+5*time.Second)
			require.ErrorIs(t, err, syscall.ETIMEDOUT)
			assertRatio(t, "detected", took, bound, 1.0, 1.15)
		})
	}

	t.Run("live peer answers probes (control)", func(t *testing.T) {
		t.Parallel()
		client, _ := Pair(t)
		require.NoError(t, cfg.Apply(client))
		_, err := readFails(t, client, time.Now(), boundOf(t, cfg)+time.Second)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		info, err := tcpinfo.Get(client)
		require.NoError(t, err)
		assert.EqualValues(t, unix.BPF_TCP_ESTABLISHED, info.State)
		assert.Zero(t, info.Probes, "every probe must have been answered")
	})
}

func TestReboot(t *testing.T) {
	t.Parallel()
	if RunIsolated(t) {
		return
	}

	t.Run("keepalive probe is answered with RST", func(t *testing.T) {
		t.Parallel()
		client, server := Pair(t)
		cfg := keepalive.Config{Idle: time.Second, Interval: time.Second, Count: 2}
		require.NoError(t, cfg.Apply(client))
		start := time.Now()
		require.NoError(t, Reboot(server))
		_, err := server.Write([]byte{1})
		require.ErrorIs(t, err, net.ErrClosed, "Reboot must close the conn")

		// Reboot sends nothing: a FIN would read as io.EOF and a RST as
		// ECONNRESET, but the client hears nothing until its own first
		// keepalive probe, Idle after the last traffic.
		_, err = readFails(t, client, start, 500*time.Millisecond)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)

		// That probe reaches a kernel without the connection, which
		// answers RST.
		took, err := readFails(t, client, start, 5*time.Second)
		require.ErrorIs(t, err, syscall.ECONNRESET)
		assert.False(t, keepalive.IsDeadPeer(err), "a reset is an answer, not a dead peer")
		assertRatio(t, "reset at the first probe", took, cfg.Idle, 1.0, 1.5)
	})

	t.Run("write is answered with RST", func(t *testing.T) {
		t.Parallel()
		client, server := Pair(t)
		require.NoError(t, Reboot(server))

		start := time.Now()
		_, err := client.Write([]byte{1})
		require.NoError(t, err, "the client cannot know yet")
		took, err := readFails(t, client, start, 5*time.Second)
		require.ErrorIs(t, err, syscall.ECONNRESET)
		assert.Less(t, took, time.Second)
	})

	t.Run("plain close sends FIN (control)", func(t *testing.T) {
		t.Parallel()
		client, server := Pair(t)
		require.NoError(t, server.Close())

		// Without TCP_REPAIR the client learns at once: this is what
		// Reboot must not do.
		_, err := readFails(t, client, time.Now(), 5*time.Second)
		require.ErrorIs(t, err, io.EOF)
	})
}

// A reader that stops reading closes its window: the writer's kernel sees
// a zero window, gets every zero-window probe answered, and only the user
// timeout drops the connection.
func TestStopReading(t *testing.T) {
	t.Parallel()
	if RunIsolated(t) {
		return
	}
	client, server := Pair(t)
	require.NoError(t, StopReading(server))
	cfg := keepalive.Config{Idle: time.Second, Interval: time.Second, Count: 2, UserTimeout: 2 * time.Second}
	require.NoError(t, cfg.Apply(client))

	start := time.Now()
	written := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := client.Write(buf); err != nil {
				written <- err
				return
			}
		}
	}()

	// The window closes while the reader is alive and answering.
	require.Eventually(t, func() bool {
		info, err := tcpinfo.Get(client)
		return err == nil && info.Snd_wnd == 0
	}, 2*time.Second, 5*time.Millisecond, "the writer must see a zero window")
	info, err := tcpinfo.Get(client)
	require.NoError(t, err)
	assert.Zero(t, info.Retransmits, "a stalled reader is not a lost one: nothing is retransmitted")
	info, err = tcpinfo.Get(server)
	require.NoError(t, err)
	assert.EqualValues(t, unix.BPF_TCP_ESTABLISHED, info.State)

	select {
	case err := <-written:
		took := time.Since(start)
		require.ErrorIs(t, err, syscall.ETIMEDOUT)
		assertRatio(t, "stalled writer dropped by the user timeout", took, cfg.UserTimeout, 1.0, 1.5)
	case <-time.After(cfg.UserTimeout + 5*time.Second):
		t.Fatal("the writer was not dropped by the user timeout")
	}
}

// Bad input is an error, never a panic.
func TestBadConn(t *testing.T) {
	t.Parallel()
	pipe, other := net.Pipe()
	defer pipe.Close()
	defer other.Close()
	closed, _ := Pair(t)
	require.NoError(t, closed.Close())

	faults := map[string]func(net.Conn) error{
		"Vanish": Vanish, "Reappear": Reappear, "Reboot": Reboot, "StopReading": StopReading,
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, fault(nil), errNilConn)
			assert.ErrorIs(t, fault((*net.TCPConn)(nil)), errNilConn)
			assert.ErrorIs(t, fault((*tls.Conn)(nil)), errNilConn)
			err := fault(pipe)
			assert.ErrorContains(t, err, "not a syscall.Conn")
			assert.ErrorIs(t, fault(closed), net.ErrClosed)
		})
	}
}

// politeConn wraps a connection the way *tls.Conn does (NetConn), and says
// goodbye on Close, as a TLS close_notify would.
type politeConn struct{ net.Conn }

func (c politeConn) NetConn() net.Conn { return c.Conn }

func (c politeConn) Close() error {
	_, _ = c.Conn.Write([]byte("bye"))
	return c.Conn.Close()
}

// The faults reach the socket under a wrapper, and Reboot bypasses the
// wrapper's own Close, which would send something.
func TestThroughWrapper(t *testing.T) {
	t.Parallel()
	if RunIsolated(t) {
		return
	}
	client, server := Pair(t)
	wrapped := politeConn{server}

	require.NoError(t, Vanish(wrapped))
	_, err := client.Write([]byte{1})
	require.NoError(t, err)
	_, err = readFails(t, server, time.Now(), 500*time.Millisecond)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "the wrapped socket must hear nothing")
	require.NoError(t, Reappear(wrapped))
	require.NoError(t, server.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = io.ReadFull(server, make([]byte, 1))
	require.NoError(t, err)

	require.NoError(t, Reboot(wrapped))
	_, err = readFails(t, client, time.Now(), 300*time.Millisecond)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "Reboot must send nothing: no goodbye, no FIN")
	_, err = client.Write([]byte{2})
	require.NoError(t, err)
	_, err = readFails(t, client, time.Now(), 5*time.Second)
	require.ErrorIs(t, err, syscall.ECONNRESET)
}
