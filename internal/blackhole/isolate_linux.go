package blackhole

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// programChildEnv marks a program re-executed by Isolate.
const programChildEnv = "BLACKHOLE_PROGRAM_CHILD"

// Isolate is RunIsolated for a program rather than a test. If the helpers
// work here, it returns nil and the program goes on. If they fail for want
// of CAP_NET_ADMIN, it re-executes the program with the same arguments in a
// new user and network namespace (where it owns the network), waits for it
// and exits with its status: Isolate does not return then. In the
// re-executed program it brings lo up and returns nil. Otherwise it returns
// an error saying why neither works.
func Isolate() error {
	if os.Getenv(programChildEnv) == "1" {
		return setUpChild()
	}
	err := usable()
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EPERM) {
		return err
	}
	exe, exeErr := os.Executable()
	if exeErr != nil {
		return fmt.Errorf("%w; and cannot find this program to re-run it in a namespace: %v", err, exeErr)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), programChildEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	if startErr := cmd.Start(); startErr != nil {
		return fmt.Errorf("%w; and cannot create a user+network namespace: %v%s", err, startErr, namespaceHint(startErr))
	}
	waitErr := cmd.Wait()
	var exit *exec.ExitError
	switch {
	case waitErr == nil:
		os.Exit(0)
	case errors.As(waitErr, &exit) && exit.ExitCode() >= 0:
		os.Exit(exit.ExitCode())
	}
	fmt.Fprintln(os.Stderr, "blackhole:", waitErr)
	os.Exit(1)
	return nil
}
