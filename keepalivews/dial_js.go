package keepalivews

import (
	"errors"
	"fmt"

	"github.com/coder/websocket"
)

// DialOptions reports an error matching [errors.ErrUnsupported]: in a
// browser, the browser dials the WebSocket, and JavaScript has no socket
// options.
func (b Budget) DialOptions(base *websocket.DialOptions) (*websocket.DialOptions, error) {
	return nil, fmt.Errorf("keepalivews: %w: the browser dials WebSockets under js", errors.ErrUnsupported)
}
