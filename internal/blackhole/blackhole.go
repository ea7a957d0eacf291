// Package blackhole makes one end of a real loopback TCP connection vanish
// without sending FIN or RST, so that tests can measure dead-peer detection
// (TCP keepalive, user timeouts, retransmission give-up) against the real
// kernel instead of a mock.
//
// Two failure modes are provided because a real peer can disappear in two
// distinguishable ways:
//
//   - [Drop] models a peer that is unreachable (cable pulled, host frozen,
//     firewall black-holing traffic): nothing it is sent is ever answered.
//     [Restore] brings it back.
//   - [Forget] models a peer that rebooted: its kernel no longer knows the
//     connection, so the next segment it receives is answered with RST.
//
// Both need CAP_NET_ADMIN on the kernels we have tested (see [Check]); tests
// call [RunIsolated] first so that they still run unprivileged, inside a
// fresh user and network namespace, where the test process owns the network.
//
// The real implementation is Linux-only; elsewhere every helper reports an
// error wrapping [errors.ErrUnsupported].
package blackhole

import (
	"net"
	"testing"
)

// ForceNamespaceEnv, when set to "1", makes [RunIsolated] re-execute tests in
// a user+network namespace even when the process could use the helpers
// directly. It exists so that a CI run as root still exercises the namespace
// path that unprivileged developers depend on.
const ForceNamespaceEnv = "BLACKHOLE_FORCE_NAMESPACE"

// Pair returns both ends of a connected loopback TCP connection on
// 127.0.0.1. Both ends are closed by t.Cleanup; closing one earlier (for
// example through [Forget]) is fine.
//
// The listener is closed as soon as the connection is accepted: a listening
// socket left on the port would answer stray segments itself (with RST) and
// muddy what [Forget] is meant to show, namely that the kernel has no socket
// for the connection at all.
func Pair(t testing.TB) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("blackhole: listen on loopback: %v", err)
	}
	defer ln.Close()

	client, err = net.DialTCP("tcp4", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatalf("blackhole: dial loopback: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })

	server, err = ln.AcceptTCP()
	if err != nil {
		t.Fatalf("blackhole: accept on loopback: %v", err)
	}
	t.Cleanup(func() { _ = server.Close() })

	// The port is ephemeral and bound to loopback, but another process could
	// still race us to it; make sure we accepted our own client.
	if got, want := server.RemoteAddr().String(), client.LocalAddr().String(); got != want {
		t.Fatalf("blackhole: accepted a connection from %s, expected %s", got, want)
	}
	return client, server
}
