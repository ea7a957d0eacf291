//go:build ignore

// A smoke test of a Wine for Go's windows/amd64 programs, which the Wine
// setup scripts build and run: crypto/rand needs bcryptprimitives.dll's
// ProcessPrng (which Wine 8 lacks), and the tests need loopback TCP.
package main

import (
	"crypto/rand"
	"fmt"
	"net"
	"runtime"
)

func main() {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // ProcessPrng
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	c.Close()
	ln.Close()
	fmt.Printf("    ok: %s/%s %s, rand %x, loopback TCP ok\n", runtime.GOOS, runtime.GOARCH, runtime.Version(), b)
}
