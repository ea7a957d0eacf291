//go:build linux

package keepalivetest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

// programChildEnv marks a program re-executed by Isolate.
const programChildEnv = "KEEPALIVETEST_PROCESS_CHILD"

// IsolateProcess is [RunIsolated] for a whole program, or a test binary
// from its TestMain. If the faults work here, it returns nil and the program
// goes on. If they fail for want of CAP_NET_ADMIN, it re-executes the program
// with the same arguments in a new user and network namespace, where it has
// the capability and a loopback of its own (brought up before the program
// runs), waits for it and exits with its status: IsolateProcess does not
// return then. In the re-executed program it returns nil. Otherwise it
// returns an error saying why neither works.
//
// As with RunIsolated, the program then cannot reach servers on the host's
// loopback: it must start its peers itself.
func IsolateProcess() error {
	if os.Getenv(programChildEnv) == "1" {
		return setUpChild()
	}
	err := Check()
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
	cmd.SysProcAttr = namespaceAttr()
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
	fmt.Fprintln(os.Stderr, "keepalivetest:", waitErr)
	os.Exit(1)
	return nil
}
