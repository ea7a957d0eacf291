//go:build linux

package keepalivetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
const childEnv = "KEEPALIVETEST_NAMESPACE_CHILD"

// childOutputPrefix is put in front of every line the namespace child prints.
// Without it the child's "=== RUN" and "--- PASS" lines, which name the very
// same test, would be indistinguishable from the parent's own and would
// confuse go test -json (test2json parses indented result lines too).
const childOutputPrefix = "[netns] "

// RunIsolated makes sure the calling test runs where the faults of this
// package work, re-running it in a user+network namespace if needed. Call it
// first thing in a test (after t.Parallel, so that isolated tests still run
// concurrently), and return at once if it returns true:
//
//	func TestDeadPeer(t *testing.T) {
//		t.Parallel()
//		if keepalivetest.RunIsolated(t) {
//			return // the test already ran, in a namespace
//		}
//		client, server := keepalivetest.Pair(t)
//		...
//	}
//
// If the process can already inject faults (it has CAP_NET_ADMIN, e.g. it
// runs as root), RunIsolated returns false and the test runs normally.
//
// If they fail with EPERM, the test binary is re-executed for just this test
// (-test.run built from t.Name(), -test.v) as the child of a new user and
// network namespace in which the current user is mapped to root. Owning the
// network namespace grants CAP_NET_ADMIN over it, no privilege on the host is
// needed, and the child gets a loopback of its own, brought up before the
// test runs, so tests cannot interfere with each other or with the host. The
// child's output is streamed into this test's output, prefixed with
// "[netns] "; the test fails if the child fails and is skipped if the child
// skipped it, and RunIsolated returns true.
//
// Because the namespace has its own loopback, the test must start its peers
// itself (in the test, or as child processes, which inherit the namespace):
// a server listening on the host's loopback cannot be reached from there. A
// test against such a server needs CAP_NET_ADMIN on the host; it can call
// [Check] and skip with its error.
//
// If neither works (the faults fail for another reason, or the namespace
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
			t.Skipf("keepalivetest: even inside a user+network namespace the faults do not work: %v", err)
		}
		return false
	}

	needErr := Check()
	force := os.Getenv(ForceNamespaceEnv) == "1"
	switch {
	case needErr == nil && !force:
		return false
	case needErr != nil && !errors.Is(needErr, unix.EPERM):
		// Only a missing capability is cured by a namespace.
		t.Skipf("keepalivetest: cannot inject faults here: %v", needErr)
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
	return Check()
})

// loopbackUp sets IFF_UP on lo, the ioctl equivalent of `ip link set lo up`,
// to avoid depending on iproute2 being installed.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("keepalivetest: bring lo up: %w", os.NewSyscallError("socket", err))
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("keepalivetest: bring lo up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("keepalivetest: bring lo up: %w", os.NewSyscallError("ioctl SIOCGIFFLAGS", err))
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("keepalivetest: bring lo up: %w", os.NewSyscallError("ioctl SIOCSIFFLAGS", err))
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
		t.Fatalf("keepalivetest: find the test binary to re-execute: %v", err)
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
	cmd.SysProcAttr = namespaceAttr()
	out := &childOutput{dst: t.Output()}
	cmd.Stdout = out // the same writer for both, so lines never interleave
	cmd.Stderr = out
	// A grandchild inheriting the output pipe must not hang the test.
	cmd.WaitDelay = 10 * time.Second

	if err := cmd.Start(); err != nil {
		t.Skipf("keepalivetest: need a user+network namespace (%s), but cannot create one: %v%s", why, err, namespaceHint(err))
	}
	t.Logf("keepalivetest: re-running %s in a user+network namespace (%s) with %s", t.Name(), why, pattern)
	waitErr := cmd.Wait()
	out.flush()

	name := t.Name()
	switch {
	case waitErr != nil:
		t.Fatalf("keepalivetest: %s failed inside the user+network namespace: %v (child output above)", name, waitErr)
	case out.contains("--- SKIP: " + name + " ("):
		t.Skipf("keepalivetest: %s was skipped inside the user+network namespace (reason in child output above)", name)
	case !out.contains("--- PASS: " + name + " ("):
		// The child exited 0 without running the test: the pattern
		// did not select it. Passing here would hide the test.
		t.Fatalf("keepalivetest: the re-executed test binary did not run %s (pattern %q)", name, pattern)
	}
}

// namespaceAttr makes a child the first process of a new user and network
// namespace, as root there.
func namespaceAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
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
