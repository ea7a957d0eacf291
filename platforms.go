package keepalive

import (
	"math"
	"time"
)

// Every OS's keepalive machinery, as data. The option numbers are literals so
// that each table compiles, and is unit-tested, on every OS; the file of the
// OS itself checks them against golang.org/x/sys at compile time.

const ipprotoTCP = 6

// Linux: TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT in seconds and probes,
// limited by MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL and MAX_TCP_KEEPCNT
// (include/net/tcp.h); TCP_USER_TIMEOUT in milliseconds. An accepted socket
// is a copy of its listener (inet_csk_clone_lock), so it starts with all
// four, and SO_KEEPALIVE, as the listener had them.
const (
	linuxTCPKeepIdle    = 0x4
	linuxTCPKeepIntvl   = 0x5
	linuxTCPKeepCnt     = 0x6
	linuxTCPUserTimeout = 0x12
)

var linux = platform{
	goos:                  "linux",
	userTimeoutEndsProbes: true,
	knobs: [numKnobs]sockopt{
		idle:        {name: "TCP_KEEPIDLE", level: ipprotoTCP, opt: linuxTCPKeepIdle, unit: time.Second, min: 1, max: 32767, inherited: true},
		interval:    {name: "TCP_KEEPINTVL", level: ipprotoTCP, opt: linuxTCPKeepIntvl, unit: time.Second, min: 1, max: 32767, inherited: true},
		count:       {name: "TCP_KEEPCNT", level: ipprotoTCP, opt: linuxTCPKeepCnt, min: 1, max: 127, inherited: true},
		userTimeout: {name: "TCP_USER_TIMEOUT", level: ipprotoTCP, opt: linuxTCPUserTimeout, unit: time.Millisecond, min: 1, max: math.MaxInt32, inherited: true},
	},
}
