// Command deadpeer shows TCP keepalive detecting a peer that vanished.
//
// It opens a loopback connection, applies a keepalive Config to one end and
// makes the other end vanish without a FIN or RST, exactly like a peer
// whose host lost power: a drop-all BPF socket filter on its socket
// silently discards every segment, keepalive probes included. Then it
// shows, once a second, what the kernel sees (keepalive.Inspect) and how
// long until it drops the connection (Health.Predict), until the blocked
// call fails, and then why it failed (keepalive.Diagnose):
//
//	go run ./examples/deadpeer
//	go run ./examples/deadpeer -idle 2s -interval 1s -count 3
//	go run ./examples/deadpeer -within 5s
//	go run ./examples/deadpeer -scenario inflight -user-timeout 2s
//	go run ./examples/deadpeer -scenario zerowindow -user-timeout 2s
//
// The scenario says what the connection is doing when the peer goes:
// idle (keepalive probes find it), inflight (data was just sent and is
// never acknowledged: retransmissions, ended by UserTimeout) or zerowindow
// (the peer is up but stops reading, so the writer's data waits behind a
// zero window: only UserTimeout ends that, and it drops such slow
// consumers too). Without -user-timeout the last two would take minutes,
// so the keepalive bound is used as the user timeout then.
//
// It needs Linux. As root it works directly; as an ordinary user it re-runs
// itself in a user and network namespace of its own.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/go-keepalive/keepalive"
)

func main() {
	var cfg keepalive.Config
	flag.DurationVar(&cfg.Idle, "idle", time.Second, "idle time before the first probe")
	flag.DurationVar(&cfg.Interval, "interval", time.Second, "time between unanswered probes")
	flag.IntVar(&cfg.Count, "count", 2, "unanswered probes before the connection is dropped")
	flag.DurationVar(&cfg.UserTimeout, "user-timeout", 0, "how long sent data may stay unacknowledged (0: leave alone)")
	within := flag.Duration("within", 0, "derive the Config from a detection target instead (keepalive.Within)")
	scenario := flag.String("scenario", "idle", "what the connection does when the peer goes: idle, inflight or zerowindow")
	flag.Parse()
	switch *scenario {
	case "idle", "inflight", "zerowindow":
	default:
		fmt.Fprintf(os.Stderr, "deadpeer: -scenario %q: want idle, inflight or zerowindow\n", *scenario)
		os.Exit(2)
	}
	if *within != 0 {
		var err error
		if cfg, err = keepalive.Within(*within); err != nil {
			fmt.Fprintln(os.Stderr, "deadpeer:", err)
			os.Exit(2)
		}
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "deadpeer:", err)
		os.Exit(2)
	}
	os.Exit(run(cfg, *scenario))
}
