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
	t.Parallel()
	bin := build(t)
	out, err := exec.Command(bin, "-idle", "1s", "-interval", "1s", "-count", "2").CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Log("\n" + string(out))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Regexp(t, regexp.MustCompile(`^dead peer detected after 3\.(0|1)\d+s \(bound 3s, predicted 3\.0\ds\): keepalive probes unanswered$`), lines[len(lines)-1])
	require.Contains(t, string(out), "Go's default (15s idle, 15s interval, 9 probes): 2m30s")
	// The countdown, one line a second.
	require.Regexp(t, regexp.MustCompile(`(?m)^  2\.\ds ESTABLISHED probes [12]/2, retransmits 0, unacked 0B, dead in ~[01]\.\ds$`), string(out))
	require.Contains(t, string(out), "ESTABLISHED probes 2/2")

	out, err = exec.Command(bin, "-count", "1000").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "keepalive: Count=1000 out of range for TCP_KEEPCNT on linux (1..127)")
	out, err = exec.Command(bin, "-scenario", "nap").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), `-scenario "nap": want idle, inflight or zerowindow`)
}

// With data in flight and with a peer that stops reading, the user timeout
// ends it, and the demo says which.
func TestDemoScenarios(t *testing.T) {
	t.Parallel()
	bin := build(t)
	for scenario, last := range map[string]string{
		"inflight":   `^dead peer detected after 2\.[45]\d+s \(bound 2s, predicted 2\.[45]\ds\): data unacknowledged$`,
		"zerowindow": `^connection dropped after 2\.[45]\d+s \(bound 2s, predicted 2\.[45]\ds\): zero window: the peer stopped reading$`,
	} {
		t.Run(scenario, func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(bin, "-scenario", scenario, "-user-timeout", "2s").CombinedOutput()
			require.NoError(t, err, "%s", out)
			t.Log("\n" + string(out))
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			require.Regexp(t, regexp.MustCompile(last), lines[len(lines)-1])
		})
	}
}

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "deadpeer")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}
