package keepalive

import (
	"errors"

	"golang.org/x/sys/windows"
)

// connGone reports a Winsock error that says the connection was reset or
// aborted, which Go's own Accept counts as temporary; setsockopt reports a
// connection reset while SO_KEEPALIVE is on as WSAENOTCONN, and one that
// timed out as WSAENETRESET (Microsoft's setsockopt documentation).
func connGone(err error) bool {
	for _, gone := range [...]error{windows.WSAECONNRESET, windows.WSAECONNABORTED, windows.WSAENOTCONN, windows.WSAENETRESET} {
		if errors.Is(err, gone) {
			return true
		}
	}
	return false
}
