package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/keepalivetest"
)

func run(cfg keepalive.Config, scenario string) int {
	if err := keepalivetest.IsolateProcess(); err != nil {
		fmt.Fprintf(os.Stderr, `deadpeer: cannot make a peer vanish here: %v

Run it as root, or let an ordinary user create user namespaces
(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0).
`, err)
		return 2
	}
	if scenario != "idle" && cfg.UserTimeout == 0 {
		bound, err := cfg.DetectionBound()
		if err != nil || bound == 0 {
			bound = 3 * time.Second
		}
		fmt.Printf("no -user-timeout: using %v (without one, the kernel would take minutes)\n", bound)
		cfg.UserTimeout = bound
	}

	ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(context.Background(), "tcp4", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	defer ln.Close()
	d, err := cfg.Dialer(nil)
	if err != nil {
		return fail(err)
	}
	client, err := d.Dial("tcp4", ln.Addr().String())
	if err != nil {
		return fail(err)
	}
	defer client.Close()
	peer, err := ln.Accept()
	if err != nil {
		return fail(err)
	}
	defer peer.Close()
	start := time.Now()

	state, err := keepalive.Get(client)
	if err != nil {
		return fail(err)
	}
	bound := state.DetectionBound()
	if scenario != "idle" {
		bound = state.Config.UserTimeout
	}
	fmt.Printf("connection %s -> %s\n", client.LocalAddr(), client.RemoteAddr())
	fmt.Printf("kernel holds: keepalive %v, idle %v, interval %v, count %d, user timeout %v\n",
		state.Enabled, state.Config.Idle, state.Config.Interval, state.Config.Count, state.Config.UserTimeout)
	fmt.Printf("a dead peer is detected within %v; for contrast:\n", bound)
	goDefault, err := keepalive.FromKeepAliveConfig(net.KeepAliveConfig{Enable: true}).DetectionBound()
	if err != nil {
		return fail(err)
	}
	fmt.Printf("  Go's default (15s idle, 15s interval, 9 probes): %v\n", goDefault)
	if def, err := keepalive.SystemDefaults(); err == nil {
		if bound, err := def.DetectionBound(); err == nil {
			fmt.Printf("  this OS's default (%v idle, %v interval, %d probes): %v\n", def.Idle, def.Interval, def.Count, bound)
		}
	}

	failed := make(chan error, 2)
	go func() {
		_, err := client.Read(make([]byte, 1))
		failed <- err
	}()
	switch scenario {
	case "idle":
		err = keepalivetest.Vanish(peer)
		fmt.Println("peer black-holed: every segment it receives is now silently dropped")
	case "inflight":
		if err = keepalivetest.Vanish(peer); err == nil {
			_, err = client.Write([]byte("never acknowledged"))
		}
		fmt.Println("peer black-holed, then 18 bytes sent: they are retransmitted, never acknowledged")
	case "zerowindow":
		if err = keepalivetest.StopReading(peer); err == nil {
			go func() {
				buf := make([]byte, 64<<10)
				for {
					if _, err := client.Write(buf); err != nil {
						failed <- err
						return
					}
				}
			}()
		}
		fmt.Println("peer stops reading, the writer goes on: the peer's window closes, though it answers every probe")
	}
	if err != nil {
		return fail(err)
	}

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	giveUp := time.After(bound + 10*time.Second)
	var predicted time.Duration // when the last prediction put the drop, since start
	for {
		select {
		case <-tick.C:
			h, err := keepalive.Inspect(client)
			if err != nil {
				return fail(err)
			}
			now := time.Since(start)
			p := h.Predict(state)
			countdown := p.String()
			if p.Known && !p.Never {
				countdown = fmt.Sprintf("dead in ~%.1fs", p.In.Seconds())
				predicted = now + p.In
			}
			fmt.Printf("%5.1fs %-11v probes %d/%d, retransmits %d, unacked %dB, %s\n",
				now.Seconds(), h.State, h.Probes, state.Config.Count, h.Retransmits, h.UnackedBytes, countdown)
		case err := <-failed:
			took := time.Since(start)
			cause := keepalive.Diagnose(client, err)
			if cause == keepalive.CauseUnknown || cause == keepalive.CauseClosed {
				fmt.Printf("connection ended after %.2fs with an unexpected error: %v (%v)\n", took.Seconds(), err, cause)
				return 1
			}
			what := "dead peer detected"
			if cause == keepalive.CauseZeroWindow {
				what = "connection dropped" // the peer is alive, only slow
			}
			fmt.Printf("%s after %.2fs (bound %v, predicted %.2fs): %v\n",
				what, took.Seconds(), bound, predicted.Seconds(), cause)
			return 0
		case <-giveUp:
			fmt.Printf("no detection after %v (bound %v): is keepalive on?\n", time.Since(start).Round(time.Millisecond), bound)
			return 1
		}
	}
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "deadpeer:", err)
	return 1
}
