//go:build !unix && !windows

package keepalive

import (
	"errors"
	"io"
	"syscall"
)

// classify tells what err says by itself, as far as these systems'
// errors go.
func classify(err error) errClass {
	switch {
	case errors.Is(err, syscall.ETIMEDOUT):
		return errTimedOut
	case errors.Is(err, io.EOF):
		return errGone
	}
	return errOther
}
