package keepalive

import (
	"errors"
	"io"

	"golang.org/x/sys/windows"
)

// classify tells what err says by itself, in Winsock's errors (and the
// syscall ones Go code makes up).
func classify(err error) errClass {
	switch {
	case errors.Is(err, windows.WSAENETRESET):
		// recv and send say so when keepalive found the peer gone.
		return errKeepalive
	case isTimedOut(err) && !errors.Is(err, windows.WSAEHOSTUNREACH) && !errors.Is(err, windows.WSAENETUNREACH):
		return errTimedOut
	case errors.Is(err, windows.WSAECONNRESET) || errors.Is(err, windows.WSAECONNABORTED):
		return errReset
	case errors.Is(err, windows.WSAEHOSTUNREACH) || errors.Is(err, windows.WSAENETUNREACH):
		return errUnreachable
	case errors.Is(err, io.EOF):
		return errGone
	}
	return errOther
}
