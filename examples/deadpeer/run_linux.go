package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/internal/tcpinfo"
	"github.com/go-keepalive/keepalive/keepalivetest"
)

func run(cfg keepalive.Config) int {
	if err := keepalivetest.IsolateProcess(); err != nil {
		fmt.Fprintf(os.Stderr, `deadpeer: cannot make a peer vanish here: %v

Run it as root, or let an ordinary user create user namespaces
(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0).
`, err)
		return 2
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

	if err := keepalivetest.Vanish(peer.(*net.TCPConn)); err != nil {
		return fail(err)
	}
	fmt.Println("peer black-holed: every segment it receives is now silently dropped")

	done := make(chan error, 1)
	go func() {
		_, err := client.Read(make([]byte, 1))
		done <- err
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	giveUp := time.After(bound + 10*time.Second)
	for {
		select {
		case <-tick.C:
			info, err := tcpinfo.Get(client.(*net.TCPConn))
			if err != nil {
				return fail(err)
			}
			fmt.Printf("%5.1fs  state %-11s  unanswered probes %d  retransmissions %d\n",
				time.Since(start).Seconds(), stateName(info.State), info.Probes, info.Retransmits)
		case err := <-done:
			took := time.Since(start)
			if !keepalive.IsDeadPeer(err) {
				fmt.Printf("Read ended after %.2fs with an unexpected error: %v\n", took.Seconds(), err)
				return 1
			}
			var errno syscall.Errno
			errors.As(err, &errno)
			fmt.Printf("dead peer detected after %.2fs (bound %v, ratio %.2f): %v\n",
				took.Seconds(), bound, float64(took)/float64(bound), errno)
			return 0
		case <-giveUp:
			fmt.Printf("no detection after %v (bound %v): is keepalive on?\n", time.Since(start).Round(time.Millisecond), bound)
			return 1
		}
	}
}

func stateName(s uint8) string {
	names := map[uint8]string{
		unix.BPF_TCP_ESTABLISHED: "ESTABLISHED",
		unix.BPF_TCP_CLOSE:       "CLOSE",
		unix.BPF_TCP_FIN_WAIT1:   "FIN_WAIT1",
		unix.BPF_TCP_CLOSE_WAIT:  "CLOSE_WAIT",
	}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprint(s)
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "deadpeer:", err)
	return 1
}
