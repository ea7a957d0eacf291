package heartbeat

import "syscall"

// raiseFileLimit makes sure that the process may hold n descriptors.
func raiseFileLimit(n int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= uint64(n) {
		return nil
	}
	lim.Cur, lim.Max = uint64(n), max(lim.Max, uint64(n))
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}
