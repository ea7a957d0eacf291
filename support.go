// # Support per OS
//
// Each Config field, per OS: the socket option Apply sets, its unit, the
// range Validate accepts (after rounding up to that unit), and whether a
// socket accepted from a configured listener starts with the listener's
// value ("inherited"). A field shown as "-" has no per-socket option there:
// Apply sets the rest, switches keepalive on and names the field in an
// *UnsupportedError. Where a kernel keeps Interval*Count, or
// Idle+Interval*Count, in one variable of its own, that sum or product is
// bounded too, and refused beyond its limit as a *RangeError; only the
// fields a Config sets take part, since the socket's own values are not
// known before the system call. The table is
// drawn from the tables Apply works from, and a test keeps it so. The
// kernel source behind each limit is cited in platforms.go.
//
//	linux
//	  Idle         TCP_KEEPIDLE      s   1s..9h6m7s           inherited
//	  Interval     TCP_KEEPINTVL     s   1s..9h6m7s           inherited
//	  Count        TCP_KEEPCNT           1..127               inherited
//	  UserTimeout  TCP_USER_TIMEOUT  ms  1ms..596h31m23.647s  inherited; also ends the probing of an idle connection
//
//	darwin (macOS, iOS)
//	  Idle         TCP_KEEPALIVE         s  1s..596h31m23s  set again once keepalive is on
//	  Interval     TCP_KEEPINTVL         s  1s..596h31m23s  inherited
//	  Count        TCP_KEEPCNT              1..2147483647   inherited
//	  UserTimeout  TCP_RXT_CONNDROPTIME  s  1s..596h31m23s
//	  Interval*Count at most 1193h2m47s
//	  Idle+Interval*Count at most 1193h2m47s
//
//	freebsd
//	  Idle         TCP_KEEPIDLE      s  1s..596h31m23s  inherited
//	  Interval     TCP_KEEPINTVL     s  1s..596h31m23s  inherited
//	  Count        TCP_KEEPCNT          1..2147483647   inherited
//	  UserTimeout  TCP_MAXUNACKTIME  s  1s..596h31m23s  inherited
//	  Interval*Count at most 1193h2m47s
//	  Idle+Interval*Count at most 1193h2m47s
//
//	dragonfly 5.8 and later
//	  Idle         TCP_KEEPIDLE   s  1s..596h31m23s  inherited
//	  Interval     TCP_KEEPINTVL  s  1s..596h31m23s  inherited
//	  Count        TCP_KEEPCNT       1..2147483647   inherited
//	  UserTimeout  -
//	  Interval*Count at most 596h31m23s
//	  Idle+Interval*Count at most 596h31m23s
//
//	dragonfly before 5.8
//	  Idle         -
//	  Interval     -
//	  Count        -
//	  UserTimeout  -
//
//	netbsd
//	  Idle         TCP_KEEPIDLE   500ms  500ms..596h31m23.5s
//	  Interval     TCP_KEEPINTVL  500ms  500ms..596h31m23.5s
//	  Count        TCP_KEEPCNT           1..2147483647
//	  UserTimeout  -
//	  Interval*Count at most 596523h14m7.5s
//	  Idle+Interval*Count at most 596523h14m7.5s
//
//	openbsd
//	  Idle         -
//	  Interval     -
//	  Count        -
//	  UserTimeout  -
//
//	illumos
//	  Idle         TCP_KEEPIDLE         s   1s..240h0m0s         inherited
//	  Interval     TCP_KEEPINTVL        s   1s..1m0s             inherited
//	  Count        TCP_KEEPCNT              1..4294967           inherited
//	  UserTimeout  TCP_ABORT_THRESHOLD  ms  1ms..596h31m23.647s  inherited
//	  Interval*Count at most 1193h2m47s
//	  Idle+Interval*Count at most 1193h2m47s
//
//	solaris 11.4 and later
//	  Idle         TCP_KEEPIDLE         s   10s..240h0m0s
//	  Interval     TCP_KEEPINTVL        s   10s..240h0m0s
//	  Count        TCP_KEEPCNT              1..4294967
//	  UserTimeout  TCP_ABORT_THRESHOLD  ms  1ms..596h31m23.647s
//	  Interval*Count at most 1193h2m47s
//	  Idle+Interval*Count at most 1193h2m47s
//
//	solaris before 11.4
//	  Idle         TCP_KEEPALIVE_THRESHOLD        ms  10s..240h0m0s
//	  Interval     TCP_KEEPALIVE_ABORT_THRESHOLD  ms  1ms..596h31m23.647s  only with Count, set as Interval*Count
//	  Count        -                                                       only with Interval, as their product
//	  UserTimeout  TCP_ABORT_THRESHOLD            ms  1ms..596h31m23.647s
//
//	aix
//	  Idle         TCP_KEEPIDLE   s  1s..298261h37m3s
//	  Interval     TCP_KEEPINTVL  s  1s..298261h37m3s
//	  Count        TCP_KEEPCNT       1..2147483647
//	  UserTimeout  -
//
//	windows 10 1709 and later
//	  Idle         TCP_KEEPIDLE   s   1s..1193h2m47s
//	  Interval     TCP_KEEPINTVL  s   1s..1193h2m47s
//	  Count        TCP_KEEPCNT        1..255
//	  UserTimeout  TCP_MAXRTMS    ms  1ms..596h31m23.647s
//
//	windows 10 1703
//	  Idle         SIO_KEEPALIVE_VALS  s   1s..1193h2m47s       set with Idle and Interval together, not read back
//	  Interval     SIO_KEEPALIVE_VALS  s   1s..1193h2m47s       set with Idle and Interval together, not read back
//	  Count        TCP_KEEPCNT             1..255
//	  UserTimeout  TCP_MAXRTMS         ms  1ms..596h31m23.647s
//
//	windows 10 1607
//	  Idle         SIO_KEEPALIVE_VALS  s   1s..1193h2m47s       set with Idle and Interval together, not read back
//	  Interval     SIO_KEEPALIVE_VALS  s   1s..1193h2m47s       set with Idle and Interval together, not read back
//	  Count        -                                            fixed at 10 probes
//	  UserTimeout  TCP_MAXRTMS         ms  1ms..596h31m23.647s
//
//	windows before 10 1607
//	  Idle         SIO_KEEPALIVE_VALS  s  1s..1193h2m47s  set with Idle and Interval together, not read back
//	  Interval     SIO_KEEPALIVE_VALS  s  1s..1193h2m47s  set with Idle and Interval together, not read back
//	  Count        -                                      fixed at 10 probes
//	  UserTimeout  TCP_MAXRT           s  1s..1193h2m47s
//
//	windows under Wine 10 on Linux
//	  Idle         TCP_KEEPIDLE   s  1s..9h6m7s
//	  Interval     TCP_KEEPINTVL  s  1s..9h6m7s
//	  Count        TCP_KEEPCNT       1..127
//	  UserTimeout  -
//
//	js, wasip1, plan9
//	  Idle         -      not even SO_KEEPALIVE
//	  Interval     -      not even SO_KEEPALIVE
//	  Count        -      not even SO_KEEPALIVE
//	  UserTimeout  -      not even SO_KEEPALIVE
package keepalive
