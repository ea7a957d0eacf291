package keepalive

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Solaris before 11.4, as data and pure arithmetic, so that it is
// unit-tested on every OS; keepalive_solaris.go chooses between this table
// and the 11.4 one at init and checks the numbers against golang.org/x/sys.
//
// These releases have no TCP_KEEPIDLE, TCP_KEEPINTVL nor TCP_KEEPCNT, only
// TCP_KEEPALIVE_THRESHOLD, the idle time, and
// TCP_KEEPALIVE_ABORT_THRESHOLD, how long unanswered probes may go on
// before the connection is dropped, both in milliseconds. The kernel
// spaces its probes by its own backoff, so Interval and Count survive only
// as their product, as in Go's net/tcpsockopt_solaris.go.
//
// Limits: TCP_KEEPALIVE_THRESHOLD is bounded by the tcp_keepalive_interval
// tunable, 10 s to 10 days in OpenSolaris, from which these releases
// descend (illumos lowered the minimum to 1 s later, OS-4686); Go's tests
// of Solaris note the same 10 s. TCP_KEEPALIVE_ABORT_THRESHOLD is bounded
// by tcp_keepalive_abort_interval, 0 to UINT32_MAX ms in illumos; 0 would
// mean no limit, so 1 ms up to what an int holds. Neither limit is
// documented for Solaris 11.3 itself. UserTimeout is TCP_ABORT_THRESHOLD,
// as on 11.4. Inheritance by accepted sockets is not documented, so it is
// not assumed.
const (
	solarisTCPKeepaliveThreshold      = 0x16
	solarisTCPKeepaliveAbortThreshold = 0x17
	solarisLegacyMinIdleMillis        = 10 * 1000
	solarisLegacyMaxIdleMillis        = sunMaxKeepIdle * 1000
)

var solarisLegacy = platform{
	goos:         "solaris",
	jointProbing: probeTime,
	knobs: [numKnobs]sockopt{
		idle:        {name: "TCP_KEEPALIVE_THRESHOLD", level: ipprotoTCP, opt: solarisTCPKeepaliveThreshold, unit: time.Millisecond, min: solarisLegacyMinIdleMillis, max: solarisLegacyMaxIdleMillis},
		interval:    {name: "TCP_KEEPALIVE_ABORT_THRESHOLD", level: ipprotoTCP, opt: solarisTCPKeepaliveAbortThreshold, unit: time.Millisecond, min: 1, max: math.MaxInt32},
		userTimeout: {name: "TCP_ABORT_THRESHOLD", level: ipprotoTCP, opt: solarisTCPAbortThreshold, unit: time.Millisecond, min: 1, max: math.MaxInt32},
	},
}

// probeTime is the legacy table's jointProbing: it returns Interval,
// rounded up to knobs[interval]'s unit, times Count, or 0 if both are
// zero. One without the other cannot be set, and is an error wrapping
// ErrUnsupported, before any system call. Out of range, the error gives
// the Interval range that this Count allows (or Count's own range, if no
// Interval fits).
func probeTime(c Config, p *platform) (int, error) {
	if c.Interval == 0 && c.Count == 0 {
		return 0, nil
	}
	o := &p.knobs[interval]
	if c.Interval == 0 || c.Count == 0 {
		have, need := "Interval", "Count"
		if c.Interval == 0 {
			have, need = need, have
		}
		return 0, fmt.Errorf("%w: %s sets Interval and Count only together, as %s = Interval×Count: %s needs %s too",
			ErrUnsupported, p.goos, o.name, have, need)
	}
	cnt := int64(c.Count) // positive: values checked the sign
	if cnt > int64(o.max) {
		return 0, &RangeError{Field: "Count", Option: o.name, OS: p.goos, Value: cnt, Min: 1, Max: int64(o.max)}
	}
	lo, hi := (int64(o.min)+cnt-1)/cnt, int64(o.max)/cnt // Interval's range, in units
	u := roundUp(int64(c.Interval), o.unit)
	if u < lo || u > hi {
		return 0, &RangeError{Field: "Interval", Option: o.name, OS: p.goos, Value: int64(c.Interval), Min: lo * unitOf(o), Max: hi * unitOf(o)}
	}
	return int(u * cnt), nil
}

// solarisHasKeepIdle reports whether a Solaris whose uname version is
// version has TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT: 11.4 or later,
// the test Go's net package makes. Solaris 11 shows
// "<version>.<update>.<sru>.<build>.<reserved>" ("11.4.0.15.0") there,
// earlier updates "11.3"; anything unparsable (Solaris 10's
// "Generic_147148-26") counts as older.
func solarisHasKeepIdle(version string) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return major > 11 || major == 11 && minor >= 4
}
