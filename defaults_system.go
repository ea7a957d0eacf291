package keepalive

// SystemDefaults returns the keepalive timings the system gives a TCP
// socket that nothing has configured: what Get reports for a fresh socket.
// They are read from where the OS keeps them system-wide:
// /proc/sys/net/ipv4/tcp_keepalive_time, tcp_keepalive_intvl and
// tcp_keepalive_probes on Linux (for the caller's network namespace), and
// the net.inet.tcp.keepidle, keepintvl and keepcnt sysctls on macOS, iOS,
// FreeBSD, DragonFly, NetBSD and OpenBSD, each converted from the unit its
// kernel counts in. On OpenBSD, which cannot set keepalive timings per
// socket, they are the timings of every connection, and Count is the
// kernel's fixed 8 probes.
//
// UserTimeout is 0: by default no user timeout applies, and unacknowledged
// data is given up on only when retransmission itself gives up. (On illumos
// and Solaris, where this function has nothing to read, Get of a fresh
// socket reports a non-zero UserTimeout: TCP_ABORT_THRESHOLD starts at the
// tcp_ip_abort_interval tunable, 8 minutes by default.) Enabled is
// not part of the result: keepalive is off on a new socket until someone
// turns it on.
//
// On Windows they come from the KeepAliveTime and KeepAliveInterval
// registry values. Where this package cannot read them (illumos, Solaris,
// AIX, and the OSes without TCP keepalive), the error wraps ErrUnsupported.
func SystemDefaults() (Config, error) {
	return readSystemDefaults()
}
