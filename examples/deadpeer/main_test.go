//go:build linux

package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The demo is the README's first command: build it and run it for real.
func TestDemo(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "deadpeer")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)

	out, err = exec.Command(bin, "-idle", "1s", "-interval", "1s", "-count", "2").CombinedOutput()
	require.NoError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	t.Log("\n" + string(out))
	require.Regexp(t, regexp.MustCompile(`^dead peer detected after 3\.(0|1)\d+s \(bound 3s, ratio 1\.0\d\): connection timed out$`), lines[len(lines)-1])
	require.Contains(t, string(out), "Go's default (15s idle, 15s interval, 9 probes): 2m30s")
	require.Contains(t, string(out), "unanswered probes 2")

	out, err = exec.Command(bin, "-count", "1000").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "keepalive: Count=1000 out of range for TCP_KEEPCNT on linux (1..127)")
}
