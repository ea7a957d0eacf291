//go:build unix || windows

package keepalive

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A kernelRule is how one kernel arms its keepalive timer when an option is
// set, as read in its source. The model keeps the timer as "fires in this
// many units of the idle option from now", or notArmed.
type kernelRule struct {
	// setIdle is the timer after the idle option is set to n.
	setIdle func(k *kernelModel, n int) int
	// setOther is the timer after TCP_KEEPINTVL or TCP_KEEPCNT is set.
	setOther func(k *kernelModel) int
	// enable is the timer after SO_KEEPALIVE goes from off to on.
	enable func(k *kernelModel) int
}

const notArmed = -1

var kernelRules = map[string]kernelRule{
	// XNU: TCP_KEEPALIVE re-arms with TCP_CONN_KEEPIDLE, the system's
	// tcp_keepidle while SO_KEEPALIVE is off (tcp_usrreq.c, case
	// TCP_KEEPALIVE; tcp_timer.h); SO_KEEPALIVE only flips the flag
	// (uipc_socket.c, sosetoptlock). Off, the timer still runs at
	// TCP_CONN_KEEPIDLE (tcp_timer.c, case TCPT_KEEP).
	"darwin": {
		setIdle: func(k *kernelModel, n int) int {
			if k.on {
				return n
			}
			return k.systemIdle
		},
		setOther: func(k *kernelModel) int { return k.timer },
		enable:   func(k *kernelModel) int { return k.timer },
	},
	// FreeBSD and DragonFly: TCP_KEEPIDLE re-arms with the new value
	// whatever SO_KEEPALIVE says (tcp_usrreq.c, tcp_default_ctloutput;
	// DragonFly's tcp_ctloutput, tcp_timer_keep_activity).
	"freebsd": {
		setIdle:  func(k *kernelModel, n int) int { return n },
		setOther: func(k *kernelModel) int { return k.timer },
		enable:   func(k *kernelModel) int { return k.timer },
	},
	// NetBSD: each of the three calls change_keepalive, which arms the
	// timer with TCP_KEEPINTVL if SO_KEEPALIVE is on, else with
	// TCP_KEEPIDLE (tcp_usrreq.c).
	"netbsd": {
		setIdle:  func(k *kernelModel, n int) int { return k.changeKeepalive() },
		setOther: func(k *kernelModel) int { return k.changeKeepalive() },
		enable:   func(k *kernelModel) int { return k.timer },
	},
	// illumos and Solaris: TCP_KEEPIDLE restarts a running timer with the
	// new value; SO_KEEPALIVE on starts it with the idle time held
	// (tcp_opt_data.c, tcp_opt_set).
	"illumos": {
		setIdle: func(k *kernelModel, n int) int {
			if k.timer != notArmed {
				return n
			}
			return notArmed
		},
		setOther: func(k *kernelModel) int { return k.timer },
		enable:   func(k *kernelModel) int { return k.idle },
	},
	// Linux: TCP_KEEPIDLE resets the timer if keepalive is on;
	// SO_KEEPALIVE on arms it with the idle time held (tcp.c,
	// do_tcp_setsockopt; tcp_timer.c, tcp_set_keepalive).
	"linux": {
		setIdle: func(k *kernelModel, n int) int {
			if k.on {
				return n
			}
			return notArmed
		},
		setOther: func(k *kernelModel) int { return k.timer },
		enable:   func(k *kernelModel) int { return k.idle },
	},
}

// kernelModel is a fake socket obeying one kernelRule, as the system-call
// layer under the generic path.
type kernelModel struct {
	rule         kernelRule
	p            *platform
	on           bool
	idle, intvl  int
	systemIdle   int
	timer        int
	calls        []string
	unknownCalls []string
}

func (k *kernelModel) changeKeepalive() int {
	if k.on {
		return k.intvl
	}
	return k.idle
}

func (k *kernelModel) set(_ uintptr, o *sockopt, value int) error {
	k.calls = append(k.calls, fmt.Sprintf("%s=%d", o.name, value))
	switch o {
	case &soKeepAlive:
		if value != 0 && !k.on {
			k.on = true
			k.timer = k.rule.enable(k)
		}
		k.on = value != 0
	case &k.p.knobs[idle]:
		k.idle = value
		k.timer = k.rule.setIdle(k, value)
	case &k.p.knobs[interval]:
		k.intvl = value
		k.timer = k.rule.setOther(k)
	case &k.p.knobs[count], &k.p.knobs[userTimeout]:
		k.timer = k.rule.setOther(k)
	default:
		k.unknownCalls = append(k.unknownCalls, o.name)
	}
	return nil
}

func (k *kernelModel) get(_ uintptr, o *sockopt) (int, error) {
	k.calls = append(k.calls, "get "+o.name)
	if o == &k.p.knobs[idle] {
		return k.idle, nil
	}
	return 0, nil
}

func (k *kernelModel) setTogether(uintptr, *platform, values) error {
	panic("no ioctl on these kernels")
}

// Kernel rules as tests: each table runs through the generic set path on a
// model of its kernel's timer, from a connection with keepalive off (fresh,
// or switched off after earlier probing) and from one with it on. In every
// case the first probe must come after Idle, not after the system's 2 hours,
// and SO_KEEPALIVE must follow every timing.
func TestKernelRulesFirstProbeAfterIdle(t *testing.T) {
	tables := map[string]struct {
		p    *platform
		rule string
	}{
		"linux": {&linux, "linux"}, "darwin": {&darwin, "darwin"},
		"freebsd": {&freebsd, "freebsd"}, "dragonfly": {&dragonfly, "freebsd"},
		"netbsd": {&netbsd, "netbsd"}, "illumos": {&illumos, "illumos"}, "solaris": {&solaris, "illumos"},
	}
	cfg := Config{Idle: 20 * time.Second, Interval: 10 * time.Second, Count: 3}
	for name, tc := range tables {
		v, err := cfg.values(tc.p)
		require.NoError(t, err)
		want := v.v[idle]
		starts := map[string]func(k *kernelModel){
			"fresh, keepalive off": func(k *kernelModel) {},
			// XNU keeps its timer running at the system idle time
			// with keepalive off; the others stop it or re-arm alike.
			"off again after Disable": func(k *kernelModel) {
				if tc.rule == "darwin" {
					k.timer = k.systemIdle
				}
			},
			"already on, old idle": func(k *kernelModel) { k.on, k.idle, k.timer = true, k.systemIdle, k.systemIdle },
		}
		for start, setup := range starts {
			t.Run(name+"/"+start, func(t *testing.T) {
				k := &kernelModel{rule: kernelRules[tc.rule], p: tc.p, systemIdle: int(2 * time.Hour / tc.p.knobs[idle].unit), timer: notArmed}
				setup(k)
				saved := sys
				sys = k
				t.Cleanup(func() { sys = saved })
				require.NoError(t, setAll(tc.p, 0, &v))

				assert.Empty(t, k.unknownCalls)
				assert.True(t, k.on, "keepalive on")
				last := -1
				for i, c := range k.calls {
					if c == "SO_KEEPALIVE=1" {
						last = i
					}
				}
				assert.Equal(t, len(v.v)-countUnset(&v), last, "SO_KEEPALIVE after every timing: %q", k.calls)
				if tc.rule == "netbsd" && start == "already on, old idle" {
					// change_keepalive probes after TCP_KEEPINTVL
					// then; the drop still waits for Idle since the
					// last segment (tcp_timer.c, tcp_timer_keep).
					assert.LessOrEqual(t, k.timer, want, "%q", k.calls)
					return
				}
				assert.Equal(t, want, k.timer, "first probe after Idle: %q", k.calls)
			})
		}
	}
}

func countUnset(v *values) int {
	n := 0
	for _, s := range v.set {
		if !s {
			n++
		}
	}
	return n
}

// Without setting the idle time again, XNU leaves the first probe at the
// system's 2 hours: the bug the darwin table's rearmIdle fixes.
func TestKernelRulesDarwinNeedsRearm(t *testing.T) {
	p := darwin
	p.rearmIdle = false
	v, err := Config{Idle: 20 * time.Second}.values(&p)
	require.NoError(t, err)
	k := &kernelModel{rule: kernelRules["darwin"], p: &p, systemIdle: 7200, timer: 7200}
	saved := sys
	sys = k
	t.Cleanup(func() { sys = saved })
	require.NoError(t, setAll(&p, 0, &v))
	assert.Equal(t, 7200, k.timer, "the first probe waits for the system's idle time")

	// With the rule, a Config that leaves Idle alone re-arms with the
	// idle time the socket holds.
	v, err = Config{Count: 3}.values(&darwin)
	require.NoError(t, err)
	k = &kernelModel{rule: kernelRules["darwin"], p: &darwin, systemIdle: 7200, timer: 7200, idle: 30}
	sys = k
	require.NoError(t, setAll(&darwin, 0, &v))
	assert.Equal(t, 30, k.timer)
	assert.Equal(t, []string{"TCP_KEEPCNT=3", "SO_KEEPALIVE=1", "get TCP_KEEPALIVE", "TCP_KEEPALIVE=30"}, k.calls)
}
