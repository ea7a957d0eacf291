// Package keepalivetest injects the faults that dead-peer detection is for
// into real TCP connections, so that a test can assert its own detection
// bound against the real kernel: a peer that vanishes without FIN or RST, one
// that comes back, one that rebooted and answers with RST, and one that stops
// reading.
//
// The faults act on one socket of the connection, the one the test holds:
//
//   - [Vanish] cuts a connection off where conn is: conn's socket drops
//     every segment that arrives for it before TCP sees it (data, ACKs, FIN,
//     RST, answers to its probes). To conn, its peer has vanished, wherever
//     the peer runs: a test that holds only the client end of a connection
//     to a real server in another process can make that server vanish.
//     [Reappear] brings the peer back.
//   - [Reboot] makes conn's own kernel forget the connection without a
//     segment sent, as a host that rebooted: the next segment its peer sends
//     is answered with RST. Use it on the far end, which the test must hold.
//   - [StopReading] shrinks conn's receive buffer so that, once the test stops
//     reading conn, its window closes: the peer sees a zero window and probes
//     it, as it would a consumer that stopped reading.
//
// The faults need CAP_NET_ADMIN in the socket's network namespace. A test
// calls [RunIsolated] first: without the capability it re-runs the test in a
// user and network namespace of its own, where it has it, and skips with the
// precise reason only when that is impossible too. [IsolateProcess] does the
// same for a whole program or test binary. [Check] reports whether the faults
// work here.
//
// The implementation is Linux-only (classic BPF socket filters, TCP_REPAIR);
// elsewhere every function reports an error wrapping [errors.ErrUnsupported]
// and RunIsolated skips the test saying so.
package keepalivetest

import (
	"net"
	"testing"
)

// ForceNamespaceEnv, when set to "1", makes [RunIsolated] re-run tests in a
// user+network namespace even when the process could inject faults directly.
// It exists so that a CI run as root still exercises the namespace path that
// unprivileged developers depend on.
const ForceNamespaceEnv = "KEEPALIVETEST_FORCE_NAMESPACE"

// Pair returns both ends of a connected loopback TCP connection on
// 127.0.0.1, with Go's default keepalive (15 s) switched off on both, so that
// a test sees only what it configures. Both ends are closed by t.Cleanup;
// closing one earlier (for example through [Reboot]) is fine.
//
// The listener is closed as soon as the connection is accepted: a listening
// socket left on the port would answer stray segments itself and muddy what
// [Reboot] is meant to show, namely that the kernel has no socket for the
// connection at all.
func Pair(t testing.TB) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("keepalivetest: listen on loopback: %v", err)
	}
	defer ln.Close()

	client, err = net.DialTCP("tcp4", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatalf("keepalivetest: dial loopback: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })

	server, err = ln.AcceptTCP()
	if err != nil {
		t.Fatalf("keepalivetest: accept on loopback: %v", err)
	}
	t.Cleanup(func() { _ = server.Close() })

	// The port is ephemeral and bound to loopback, but another process could
	// still race us to it; make sure we accepted our own client.
	if got, want := server.RemoteAddr().String(), client.LocalAddr().String(); got != want {
		t.Fatalf("keepalivetest: accepted a connection from %s, expected %s", got, want)
	}
	for _, c := range []*net.TCPConn{client, server} {
		if err := c.SetKeepAlive(false); err != nil {
			t.Fatalf("keepalivetest: switch Go's default keepalive off: %v", err)
		}
	}
	return client, server
}
