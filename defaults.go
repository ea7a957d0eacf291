package keepalive

import (
	"fmt"
	"strconv"
	"strings"
)

// procInt parses the content of a /proc/sys file holding one number.
func procInt(path string, b []byte) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("keepalive: %s: %w", path, err)
	}
	return n, nil
}
