//go:build linux

package blackhole

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// childEnv marks a test binary that RunIsolated re-executed inside a fresh
// user+network namespace. It prevents the child from re-executing itself
// again and tells it to bring the namespace's loopback interface up.
const childEnv = "BLACKHOLE_NAMESPACE_CHILD"

// childOutputPrefix is put in front of every line the namespace child prints.
// Without it the child's "=== RUN" and "--- PASS" lines, which name the very
// same test, would be indistinguishable from the parent's own and would
// confuse go test -json (test2json parses indented result lines too).
const childOutputPrefix = "[netns] "

// Drop attaches a drop-all classic BPF socket filter (SO_ATTACH_FILTER,
// program `ret #0`) to the socket of conn.
//
// Linux runs socket filters before TCP processing, so the socket silently
// ignores every inbound segment (keepalive probes and ACKs included) and never
// answers: to the other end the peer has vanished. A filter is used rather
// than a firewall rule because it is scoped to exactly one socket, needs no
// extra tooling and disappears with the socket, so parallel tests cannot
// disturb each other.
//
// Outbound traffic is not filtered: the dropped socket still sends its own
// data, retransmissions and keepalive probes, but never sees the replies. The
// filter does not change the socket's state, so a conn that is never
// restored stays ESTABLISHED until it is closed.
//
// On the kernels tested, attaching a filter needs CAP_NET_ADMIN; see
// [RunIsolated] for running without it.
func Drop(conn syscall.Conn) error {
	// `ret #0` means "keep 0 bytes of this packet", i.e. drop it. The
	// program is built per call because the kernel copies it anyway and a
	// shared slice would invite accidental mutation.
	prog := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	return sockopt(conn, "attach drop-all socket filter", func(fd int) error {
		return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
			&unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]})
	})
}

// Restore detaches the filter (SO_DETACH_FILTER): the peer "comes back".
//
// Segments dropped meanwhile are gone, but TCP recovers them on its own: the
// other end keeps retransmitting unacknowledged data, so it arrives with the
// next retransmission after Restore. Restore fails (ENOENT) if no filter is
// attached.
func Restore(conn syscall.Conn) error {
	return sockopt(conn, "detach socket filter", func(fd int) error {
		return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DETACH_FILTER, 0)
	})
}

// Forget makes the local kernel forget the connection silently, as if its
// host rebooted: put the socket in TCP_REPAIR mode (needs CAP_NET_ADMIN) and
// close it, so no FIN/RST is sent; the next segment from the other end is
// answered with RST.
//
// TCP_REPAIR exists for checkpoint/restore (CRIU), which must be able to tear
// down a socket without telling the peer; a socket closed in repair mode is
// disconnected with no segment sent. Afterwards no socket matches the
// connection, so the kernel answers whatever arrives with RST, exactly what a
// rebooted peer does.
//
// On success conn is closed. If entering repair mode fails, conn is left open
// and untouched so that the caller still owns it.
func Forget(conn *net.TCPConn) error {
	err := sockopt(conn, "enter TCP_REPAIR mode", func(fd int) error {
		return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR, unix.TCP_REPAIR_ON)
	})
	if err != nil {
		return err
	}
	if err := conn.Close(); err != nil {
		return fmt.Errorf("blackhole: close socket in TCP_REPAIR mode: %w", err)
	}
	return nil
}

// Check reports whether Drop works in this process (attach then detach on a
// throwaway loopback TCP socket pair); nil if it does, else an error saying
// why (e.g. EPERM, needs CAP_NET_ADMIN).
//
// It uses a real connected pair rather than a bare socket so that it also
// catches an unusable loopback (for example "network is unreachable" in a
// network namespace whose lo is still down), which would break tests just the
// same.
func Check() error {
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return fmt.Errorf("blackhole: check: listen on loopback: %w", err)
	}
	defer ln.Close()
	client, err := net.DialTCP("tcp4", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		return fmt.Errorf("blackhole: check: dial loopback: %w", err)
	}
	defer client.Close()
	server, err := ln.AcceptTCP()
	if err != nil {
		return fmt.Errorf("blackhole: check: accept on loopback: %w", err)
	}
	defer server.Close()

	// Drop's and Restore's errors already say what failed and why.
	if err := Drop(server); err != nil {
		return err
	}
	return Restore(server)
}

// checkForget reports whether Forget can work in this process. A fresh,
// unconnected socket is enough: the kernel accepts TCP_REPAIR on a CLOSED or
// ESTABLISHED socket if and only if the caller has CAP_NET_ADMIN in the
// socket's network namespace, so no connection needs to be torn down.
func checkForget() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("blackhole: check: %w", os.NewSyscallError("socket", err))
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR, unix.TCP_REPAIR_ON); err != nil {
		return fmt.Errorf("blackhole: enter TCP_REPAIR mode: %w", explain(os.NewSyscallError("setsockopt", err)))
	}
	return nil
}

// usable reports whether every helper of the package works here, which is
// what a test that called RunIsolated may rely on.
func usable() error {
	return errors.Join(Check(), checkForget())
}

// sockopt runs set on the file descriptor behind conn and wraps its error.
// RawConn.Control is used rather than File because File returns a dup: it
// would outlive conn.Close, so Forget's close would not be the last reference
// and the kernel would not tear the connection down.
func sockopt(conn syscall.Conn, what string, set func(fd int) error) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("blackhole: %s: %w", what, err)
	}
	var setErr error
	if err := rc.Control(func(fd uintptr) { setErr = set(int(fd)) }); err != nil {
		return fmt.Errorf("blackhole: %s: %w", what, err)
	}
	if setErr != nil {
		return fmt.Errorf("blackhole: %s: %w", what, explain(os.NewSyscallError("setsockopt", setErr)))
	}
	return nil
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

// RunIsolated makes sure the calling test runs where every helper of this
// package works, re-executing it in a user+network namespace if needed. Use
// it first thing in a test (after t.Parallel, so that isolated tests still
// run concurrently):
//
//	func TestDeadPeer(t *testing.T) {
//		t.Parallel()
//		if blackhole.RunIsolated(t) {
//			return // the test already ran in a namespace
//		}
//		client, server := blackhole.Pair(t)
//		...
//	}
//
// If the process can already use the helpers (it has CAP_NET_ADMIN, e.g.
// runs as root), RunIsolated returns false and the test runs normally.
//
// If they fail with EPERM, the current test binary is re-executed for just
// this test (-test.run built from t.Name(), -test.v) as the child of a new
// user and network namespace in which the current user is mapped to root.
// Owning the network namespace grants CAP_NET_ADMIN over it, no privilege on
// the host is needed, and the child gets a loopback of its own (brought up
// before the test runs), so tests cannot interfere with each other or with
// the host. The child's output is streamed into this test's output, prefixed
// with "[netns] "; the test fails if the child fails, is skipped if the child
// skipped it, and RunIsolated returns true: the caller must return at once.
//
// If neither works (the helpers fail for another reason, or the namespace
// cannot be created), the test is skipped with the precise reason.
//
// Setting the environment variable [ForceNamespaceEnv] to "1" forces the
// namespace path even when it is not needed, to exercise it on root CI.
func RunIsolated(t *testing.T) (done bool) {
	t.Helper()
	if os.Getenv(childEnv) == "1" {
		// We are the re-executed child: never re-execute again, whatever
		// the force variable inherited from the parent says.
		if err := setUpChild(); err != nil {
			t.Skipf("blackhole: even inside a user+network namespace the helpers do not work: %v", err)
		}
		return false
	}

	needErr := usable()
	force := os.Getenv(ForceNamespaceEnv) == "1"
	switch {
	case needErr == nil && !force:
		return false
	case needErr != nil && !errors.Is(needErr, unix.EPERM):
		// Only a missing capability is cured by a namespace.
		t.Skipf("blackhole: cannot black-hole sockets here: %v", needErr)
	}
	why := fmt.Sprintf("%s=1", ForceNamespaceEnv)
	if needErr != nil {
		// errors.Join separates with newlines; keep the log line whole.
		why = strings.ReplaceAll(needErr.Error(), "\n", "; ")
	}
	runInNamespace(t, why)
	return true
}

// setUpChild prepares a namespace child once per process: a fresh network
// namespace has only lo, and it is down, so nothing could connect to
// 127.0.0.1 until it is brought up.
var setUpChild = sync.OnceValue(func() error {
	if err := loopbackUp(); err != nil {
		return err
	}
	return usable()
})

// loopbackUp sets IFF_UP on lo, the ioctl equivalent of `ip link set lo up`,
// to avoid depending on iproute2 being installed.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("blackhole: bring lo up: %w", os.NewSyscallError("socket", err))
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("blackhole: bring lo up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("blackhole: bring lo up: %w", os.NewSyscallError("ioctl SIOCGIFFLAGS", err))
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("blackhole: bring lo up: %w", os.NewSyscallError("ioctl SIOCSIFFLAGS", err))
	}
	return nil
}

// runInNamespace re-executes the test binary for t alone inside a new user
// and network namespace and reports the child's verdict on t. why says why
// the namespace is needed and ends up in the skip message if it cannot be
// created.
func runInNamespace(t *testing.T, why string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("blackhole: find the test binary to re-execute: %v", err)
	}
	pattern := runPattern(t.Name())
	args := []string{"-test.run=" + pattern, "-test.v=true", "-test.count=1"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	// Give the child the time the parent has left, so that a hang is
	// reported by the child with its goroutine dump instead of by the
	// parent, which only knows it is waiting.
	if deadline, ok := t.Deadline(); ok {
		if left := time.Until(deadline); left > 0 {
			args = append(args, "-test.timeout="+left.String())
		}
	}

	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		// An unprivileged process may map exactly its own IDs, and
		// mapping them to 0 makes the child root in the new user
		// namespace, with full capabilities over the network
		// namespace created together with it.
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
		// The kernel lets an unprivileged process write gid_map only
		// after setgroups has been denied.
		GidMappingsEnableSetgroups: false,
		// Do not leave the child running if the parent dies (for
		// example on its own -test.timeout panic).
		Pdeathsig: syscall.SIGKILL,
	}
	out := &childOutput{dst: t.Output()}
	cmd.Stdout = out // the same writer for both, so lines never interleave
	cmd.Stderr = out
	// A grandchild inheriting the output pipe must not hang the test.
	cmd.WaitDelay = 10 * time.Second

	if err := cmd.Start(); err != nil {
		t.Skipf("blackhole: need a user+network namespace (%s), but cannot create one: %v%s", why, err, namespaceHint(err))
	}
	t.Logf("blackhole: re-running %s in a user+network namespace (%s) with %s", t.Name(), why, pattern)
	waitErr := cmd.Wait()
	out.flush()

	name := t.Name()
	switch {
	case waitErr != nil:
		t.Fatalf("blackhole: %s failed inside the user+network namespace: %v (child output above)", name, waitErr)
	case out.contains("--- SKIP: " + name + " ("):
		t.Skipf("blackhole: %s was skipped inside the user+network namespace (reason in child output above)", name)
	case !out.contains("--- PASS: " + name + " ("):
		// The child exited 0 without running the test: the pattern
		// did not select it. Passing here would hide the test.
		t.Fatalf("blackhole: the re-executed test binary did not run %s (pattern %q)", name, pattern)
	}
}

// namespaceHint names the usual culprits for a failure to create a user
// namespace, because the raw errno is cryptic ("no space left on device").
func namespaceHint(err error) string {
	switch {
	case errors.Is(err, unix.ENOSPC):
		return " (user.max_user_namespaces is exhausted or 0)"
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return " (unprivileged user namespaces are disabled, e.g. by kernel.unprivileged_userns_clone=0," +
			" kernel.apparmor_restrict_unprivileged_userns=1, or a container's seccomp profile)"
	case errors.Is(err, unix.EINVAL):
		return " (the kernel lacks user or network namespace support)"
	}
	return ""
}

// runPattern returns the -test.run pattern that selects exactly the test
// named name (as returned by t.Name()) and its own subtests.
//
// The testing package splits both the pattern and the test name on '/' and
// matches level by level, so each level is anchored separately; anchoring
// the whole name would not work, and leaving levels unanchored would also
// run "TestFoo2" or "case#01" for "TestFoo" or "case". Each level is quoted
// because test names may contain regexp metacharacters ('.', '(', '[', '|',
// '\', ...). '/' inside a subtest name cannot be quoted, but it needs no
// quoting: the testing package treats it as a level separator in the name
// too, so splitting here agrees with it.
func runPattern(name string) string {
	levels := strings.Split(name, "/")
	for i, level := range levels {
		levels[i] = "^" + regexp.QuoteMeta(level) + "$"
	}
	return strings.Join(levels, "/")
}

// childOutput forwards the child's output line by line to the test output,
// with childOutputPrefix, and keeps a copy to look for the child's verdict.
type childOutput struct {
	mu      sync.Mutex
	dst     io.Writer
	pending []byte       // incomplete last line
	all     bytes.Buffer // everything, for contains
}

// Write implements io.Writer.
func (w *childOutput) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.pending = append(w.pending, p...)
	rest := w.pending
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		w.emit(rest[:i])
		rest = rest[i+1:]
	}
	w.pending = append(w.pending[:0], rest...)
	return len(p), nil
}

// flush forwards a last line that lacks its newline.
func (w *childOutput) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) > 0 {
		w.emit(w.pending)
		w.pending = w.pending[:0]
	}
}

// emit writes one line. Errors are ignored: losing a line of child output
// must not fail the test, the verdict comes from the exit status.
func (w *childOutput) emit(line []byte) {
	_, _ = fmt.Fprintf(w.dst, "%s%s\n", childOutputPrefix, line)
}

// contains reports whether the child printed s.
func (w *childOutput) contains(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Contains(w.all.Bytes(), []byte(s))
}

// TCPInfo reads the kernel's view of c (TCP_INFO): its state, unanswered
// keepalive probes, retransmissions, unacknowledged segments. Tests and the
// demo watch a vanished peer being detected through it.
func TCPInfo(c *net.TCPConn) (*unix.TCPInfo, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var info *unix.TCPInfo
	var infoErr error
	if err := rc.Control(func(fd uintptr) {
		info, infoErr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil {
		return nil, err
	}
	return info, infoErr
}
