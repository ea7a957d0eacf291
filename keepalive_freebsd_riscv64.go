package keepalive

import "golang.org/x/sys/unix"

// Of the FreeBSD ports, only riscv64's x/sys has TCP_MAXUNACKTIME.
var _ = [1]struct{}{}[freebsdTCPMaxUnackTime-unix.TCP_MAXUNACKTIME]
