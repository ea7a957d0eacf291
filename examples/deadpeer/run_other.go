//go:build !linux

package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/go-keepalive/keepalive"
)

func run(keepalive.Config, string) int {
	fmt.Fprintf(os.Stderr, `deadpeer: this demo needs Linux, and this is %s.

It makes a peer vanish with a Linux-only trick: a drop-all BPF socket filter
that discards every segment before TCP sees it. The keepalive package itself
works here; to watch it detect a dead peer, run the demo on Linux (a VM or
container will do), or pull the network cable of a real peer.
`, runtime.GOOS)
	return 2
}
