//go:build unix || windows

package keepalive

import "time"

// The one get/set path of every OS with sockets: the platform table says
// which options to set, in which unit and order; sockcalls makes the system
// calls. Nothing here names an OS.

// sockcalls is the system-call layer under the generic path: the OS's own
// (sysSockcalls, in the OS's file) or, in tests, a recording fake, which
// lets any OS's table run through setAll and getAll on any OS.
//
// Values only go in: a pointer to the caller's stack would escape through
// the interface and cost Apply an allocation.
type sockcalls interface {
	// set sets option o of socket fd to value.
	set(fd uintptr, o *sockopt, value int) error
	// get reads option o of socket fd.
	get(fd uintptr, o *sockopt) (int, error)
	// setTogether sets the knobs p marks byIoctl from v, in one call that
	// also switches keepalive on (Windows' SIO_KEEPALIVE_VALS).
	setTogether(fd uintptr, p *platform, v values) error
}

// sys is the system-call layer in use.
var sys sockcalls = sysSockcalls{}

// setAll applies v to the socket fd with p's options and switches keepalive
// on, last, so that a value the OS refuses half-way leaves keepalive as it
// was; where p says rearmIdle, the idle time is set once more after that,
// since only then does the kernel arm its timer with it. Knobs p sets together
// (byIoctl) go before the others, which that call could reset. An option
// this socket lacks (TCP_USER_TIMEOUT on an MPTCP connection) is skipped
// and, with what p has no option for, named in the *UnsupportedError
// returned after keepalive is on.
func setAll(p *platform, fd uintptr, v *values) error {
	on := false
	together := false
	for k := range numKnobs {
		together = together || v.set[k] && p.knobs[k].byIoctl
	}
	if together {
		if err := sys.setTogether(fd, p, *v); err != nil {
			return err
		}
		on = true
	}
	var lacking Fields
	var lackErr error
	for k := range numKnobs {
		o := &p.knobs[k]
		if !v.set[k] || o.byIoctl {
			continue
		}
		err := sys.set(fd, o, v.v[k])
		switch {
		case err == nil:
		case optionMissing(err):
			lacking |= fieldOf(k)
			if lackErr == nil {
				lackErr = &OptionError{Op: "set", Option: o.name, Value: v.v[k], Err: err}
			}
		default:
			return &OptionError{Op: "set", Option: o.name, Value: v.v[k], Err: err}
		}
	}
	if !on {
		if err := setEnabled(fd, true); err != nil {
			return err
		}
		if p.rearmIdle {
			if err := setIdleAgain(p, fd, v); err != nil {
				return err
			}
		}
	}
	return v.shortfall(p, lacking, lackErr)
}

// setIdleAgain sets p's idle option again, keepalive being on: to v's value,
// or where v leaves Idle alone, to the one the socket holds.
func setIdleAgain(p *platform, fd uintptr, v *values) error {
	o := &p.knobs[idle]
	n := v.v[idle]
	if !v.set[idle] {
		var err error
		if n, err = sys.get(fd, o); err != nil {
			return &OptionError{Op: "get", Option: o.name, Err: err}
		}
	}
	if err := sys.set(fd, o, n); err != nil {
		return &OptionError{Op: "set", Option: o.name, Value: n, Err: err}
	}
	return nil
}

// setEnabled switches SO_KEEPALIVE.
func setEnabled(fd uintptr, on bool) error {
	n := 0
	if on {
		n = 1
	}
	if err := sys.set(fd, &soKeepAlive, n); err != nil {
		return &OptionError{Op: "set", Option: soKeepAlive.name, Value: n, Err: err}
	}
	return nil
}

// getAll reads SO_KEEPALIVE and every knob of p into s. A knob p has no
// option for, one it cannot read back (set together, or as a product of
// two), or one this socket lacks, is left zero and named in s.Unknown: the
// rest is still read, and that is no error.
func getAll(p *platform, fd uintptr, s *State) error {
	on, err := sys.get(fd, &soKeepAlive)
	if err != nil {
		return &OptionError{Op: "get", Option: soKeepAlive.name, Err: err}
	}
	s.Enabled = on != 0
	for k := range numKnobs {
		o := &p.knobs[k]
		if o.name == "" || o.byIoctl || p.jointProbing != nil && (k == interval || k == count) {
			s.Unknown |= fieldOf(k)
			continue
		}
		n, err := sys.get(fd, o)
		switch {
		case err == nil:
			// A negative value means no limit at all (Windows' TCP_MAXRT
			// reads -1 for "never give up"), as zero does.
			s.Config.setField(k, fromUnit(max(n, 0), o.unit))
		case optionMissing(err):
			s.Unknown |= fieldOf(k)
		default:
			return &OptionError{Op: "get", Option: o.name, Err: err}
		}
	}
	return nil
}

// setField stores a value read from the OS into the matching Config field.
func (c *Config) setField(k knob, x int64) {
	switch k {
	case idle:
		c.Idle = time.Duration(x)
	case interval:
		c.Interval = time.Duration(x)
	case count:
		c.Count = int(x)
	case userTimeout:
		c.UserTimeout = time.Duration(x)
	}
}
