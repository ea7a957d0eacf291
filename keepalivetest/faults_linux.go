//go:build linux

package keepalivetest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"syscall"

	"golang.org/x/sys/unix"
)

// errNilConn is returned for a nil connection.
var errNilConn = errors.New("keepalivetest: nil connection")

// Vanish cuts the connection off where conn is: it attaches a drop-all
// classic BPF socket filter (SO_ATTACH_FILTER, program `ret #0`) to conn's
// socket, so that conn's kernel silently discards every segment that arrives
// for it: data, ACKs, FIN, RST, window updates, the answers to its keepalive
// probes and retransmissions. Nothing is sent and nothing is closed.
//
// To conn, its peer has vanished: exactly what a host that lost power or a
// pulled cable looks like. Linux runs socket filters before TCP processing,
// so conn's kernel never learns anything more about the peer; its keepalive
// probes and retransmissions go unanswered and it drops the connection on
// its own schedule, which is what a dead-peer test measures. The peer may run
// anywhere, in another process or on a real server the test does not
// control: only conn's socket is touched.
//
// What conn's kernel sends still goes out, and that is by design. A filter
// cannot drop a socket's own outbound segments (that takes a firewall rule
// or a cgroup program, global state that parallel tests would share), and it
// need not: everything the peer answers is dropped on arrival, so to conn
// the peer is silent either way. The peer does receive what conn sends
// after Vanish (a query written then reaches a real server, which may run
// it), and learns when conn's kernel gives up: a keepalive timeout sends a
// RST, and once the connection is dropped no socket matches it, so the
// peer's next segment is answered with RST. A real server thus frees the
// session. So Vanish tests conn's detection of a vanished peer, not the
// peer's detection of conn. A peer that is itself silent (it writes nothing
// and sends no probes of its own) also sees conn as vanished, since conn
// answers nothing: that is how a test plays a vanished client from the
// client's side.
//
// conn may be a *net.TCPConn, anything with a NetConn() net.Conn method
// (such as *tls.Conn), unwrapped repeatedly, or any net.Conn that is also a
// syscall.Conn. The filter goes with the socket: it needs no cleanup, and
// connections other than conn are never affected, so parallel tests cannot
// disturb each other. Calling Vanish again replaces the filter with an
// identical one.
func Vanish(conn net.Conn) error {
	// `ret #0` means "keep 0 bytes of this packet", i.e. drop it. The
	// program is built per call because the kernel copies it anyway and a
	// shared slice would invite accidental mutation.
	prog := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	return control(conn, "vanish: attach drop-all socket filter", func(fd int) error {
		return os.NewSyscallError("setsockopt SO_ATTACH_FILTER", unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
			&unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}))
	})
}

// Reappear undoes [Vanish]: it detaches the socket filter (SO_DETACH_FILTER)
// and the peer comes back.
//
// Segments dropped meanwhile are gone, but TCP recovers on its own: whichever
// end has unacknowledged data retransmits it, and conn's next keepalive probe
// is answered, resetting the count of unanswered probes. Reappear fails
// (ENOENT) if no filter is attached.
func Reappear(conn net.Conn) error {
	return control(conn, "reappear: detach socket filter", func(fd int) error {
		return os.NewSyscallError("setsockopt SO_DETACH_FILTER", unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DETACH_FILTER, 0))
	})
}

// Reboot makes conn's kernel forget the connection silently, as if conn's
// host had rebooted: it puts the socket in TCP_REPAIR mode and closes it,
// which sends no FIN and no RST. Afterwards no socket matches the
// connection, so the kernel answers the peer's next segment (data, or a
// keepalive probe after its idle time) with RST, exactly as a rebooted host
// does, and the peer's Read fails with ECONNRESET.
//
// Use it on the far end of the connection whose detection is tested, which
// the test must therefore hold (a [Pair], or a connection its own server
// accepted): a reset can only come from the kernel that owns that end.
//
// TCP_REPAIR exists for checkpoint/restore (CRIU), which must be able to
// tear a socket down without telling the peer. On success conn is closed
// (a wrapper such as *tls.Conn is bypassed, so no close_notify is sent). If
// entering repair mode fails, conn is left open and untouched so that the
// caller still owns it.
func Reboot(conn net.Conn) error {
	inner := unwrap(conn)
	err := control(inner, "reboot: enter TCP_REPAIR mode", func(fd int) error {
		return os.NewSyscallError("setsockopt TCP_REPAIR", unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR, unix.TCP_REPAIR_ON))
	})
	if err != nil {
		return err
	}
	if err := inner.Close(); err != nil {
		return fmt.Errorf("keepalivetest: reboot: close socket in TCP_REPAIR mode: %w", err)
	}
	return nil
}

// StopReading makes conn a consumer whose buffer is full as soon as possible
// once the test stops reading it: it shrinks conn's receive buffer to the
// kernel's minimum (SO_RCVBUF, which also stops the kernel from growing it).
// The peer's writes then fill it within a few kilobytes beyond what the peer
// was already allowed to send, conn advertises a zero window, and the peer's
// kernel sends zero-window probes, which conn's kernel answers: the peer is
// alive but stuck. It is the case where only a user timeout (TCP_USER_TIMEOUT,
// counted from the last progress) drops the connection.
//
// The test must not read conn afterwards: reading frees buffer space and
// opens the window again. Buffered data stays readable, so a test can read
// it later to let the writer go on.
func StopReading(conn net.Conn) error {
	return control(conn, "stop reading: shrink receive buffer", func(fd int) error {
		// The kernel doubles the value and raises it to its minimum
		// (SOCK_MIN_RCVBUF), so 1 asks for the smallest buffer there is.
		return os.NewSyscallError("setsockopt SO_RCVBUF", unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1))
	})
}

// Check reports whether the faults work in this process: nil if they do,
// else an error saying why (for example EPERM, with the capability it
// needs). It tries [Vanish] and [Reappear] on a throwaway loopback
// connection and TCP_REPAIR on a fresh socket.
//
// A real connected pair is used rather than a bare socket so that Check also
// catches an unusable loopback (for example "network is unreachable" in a
// network namespace whose lo is still down), which would break tests just
// the same.
func Check() error {
	return errors.Join(checkFilter(), checkRepair())
}

func checkFilter() error {
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return fmt.Errorf("keepalivetest: check: listen on loopback: %w", err)
	}
	defer ln.Close()
	client, err := net.DialTCP("tcp4", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		return fmt.Errorf("keepalivetest: check: dial loopback: %w", err)
	}
	defer client.Close()
	server, err := ln.AcceptTCP()
	if err != nil {
		return fmt.Errorf("keepalivetest: check: accept on loopback: %w", err)
	}
	defer server.Close()

	// Vanish's and Reappear's errors already say what failed and why.
	if err := Vanish(server); err != nil {
		return err
	}
	return Reappear(server)
}

// checkRepair reports whether Reboot can work in this process. A fresh,
// unconnected socket is enough: the kernel accepts TCP_REPAIR on a CLOSED or
// ESTABLISHED socket if and only if the caller has CAP_NET_ADMIN in the
// socket's network namespace, so no connection needs to be torn down.
func checkRepair() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("keepalivetest: check: %w", os.NewSyscallError("socket", err))
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR, unix.TCP_REPAIR_ON); err != nil {
		return fmt.Errorf("keepalivetest: check: enter TCP_REPAIR mode: %w", explain(os.NewSyscallError("setsockopt TCP_REPAIR", err)))
	}
	return nil
}

// control runs op on the file descriptor of conn's socket and wraps its
// error with what was being done.
//
// RawConn.Control is used rather than File because File returns a dup: it
// would outlive conn.Close, so Reboot's close would not be the last
// reference and the kernel would not tear the connection down.
func control(conn net.Conn, what string, op func(fd int) error) error {
	inner := unwrap(conn)
	if inner == nil {
		return fmt.Errorf("keepalivetest: %s: %w", what, errNilConn)
	}
	sc, ok := inner.(syscall.Conn)
	if !ok {
		return fmt.Errorf("keepalivetest: %s: %T has no socket (not a syscall.Conn)", what, inner)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return fmt.Errorf("keepalivetest: %s: %w", what, err)
	}
	var opErr error
	if err := rc.Control(func(fd uintptr) { opErr = op(int(fd)) }); err != nil {
		return fmt.Errorf("keepalivetest: %s: %w", what, err)
	}
	if opErr != nil {
		return fmt.Errorf("keepalivetest: %s: %w", what, explain(opErr))
	}
	return nil
}

// unwrap follows NetConn() chains (such as *tls.Conn's) down to the
// connection that owns the socket. A nil conn, or a typed nil pointer, comes
// back as nil.
func unwrap(conn net.Conn) net.Conn {
	for conn != nil {
		if v := reflect.ValueOf(conn); v.Kind() == reflect.Pointer && v.IsNil() {
			return nil
		}
		w, ok := conn.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		conn = w.NetConn()
	}
	return conn
}

// permissionError adds the missing capability to an EPERM, because the bare
// "operation not permitted" does not tell the reader what to grant.
type permissionError struct{ err error }

func (e permissionError) Error() string {
	return e.err.Error() + " (needs CAP_NET_ADMIN in the socket's network namespace)"
}

func (e permissionError) Unwrap() error { return e.err }

// explain wraps EPERM errors in permissionError and returns others unchanged.
func explain(err error) error {
	if errors.Is(err, unix.EPERM) {
		return permissionError{err}
	}
	return err
}
