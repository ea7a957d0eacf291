//go:build unix

package keepalive

import (
	"errors"
	"io"

	"golang.org/x/sys/unix"
)

// classify tells what err says by itself.
func classify(err error) errClass {
	switch {
	case errors.Is(err, unix.ETIMEDOUT):
		return errTimedOut
	case errors.Is(err, unix.ECONNRESET):
		return errReset
	case errors.Is(err, unix.EHOSTUNREACH) || errors.Is(err, unix.ENETUNREACH):
		return errUnreachable
	case errors.Is(err, io.EOF) || errors.Is(err, unix.EPIPE):
		return errGone
	}
	return errOther
}
