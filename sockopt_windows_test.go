package keepalive

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/windows"
)

// A connection gone before Listener could configure it gives a temporary
// error on Windows too, so that net/http goes on accepting.
func TestOptionErrorTemporaryWindows(t *testing.T) {
	for _, errno := range []windows.Errno{windows.WSAECONNRESET, windows.WSAECONNABORTED, windows.WSAENOTCONN, windows.WSAENETRESET} {
		assert.True(t, (&OptionError{Op: "set", Option: "TCP_KEEPCNT", Err: errno}).Temporary(), "%v", errno)
	}
	for _, errno := range []windows.Errno{windows.WSAEINVAL, windows.WSAENOPROTOOPT, windows.WSAENOTSOCK} {
		assert.False(t, (&OptionError{Op: "set", Option: "TCP_KEEPCNT", Err: errno}).Temporary(), "%v", errno)
	}
}
