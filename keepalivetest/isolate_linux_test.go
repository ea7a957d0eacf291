//go:build linux

package keepalivetest

import (
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	if isInitialRoot(t) {
		// Real root has CAP_NET_ADMIN: no namespace is needed.
		require.NoError(t, Check())
	}
	if RunIsolated(t) {
		return
	}
	require.NoError(t, Check())
}

// isInitialRoot reports whether the test runs as root of the initial user
// namespace. Root of a nested user namespace (as in the namespace child, or
// under `unshare -U`) also has euid 0 but no power over the host's network.
func isInitialRoot(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return false
	}
	uidMap, err := os.ReadFile("/proc/self/uid_map")
	require.NoError(t, err)
	// The initial user namespace maps the whole uid range onto itself.
	return strings.Join(strings.Fields(string(uidMap)), " ") == "0 0 4294967295"
}

func TestRunPattern(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, want string
	}{
		{"TestFoo", `^TestFoo$`},
		{"TestFoo/case", `^TestFoo$/^case$`},
		{"TestFoo/a.b*(c)[d]|e^$\\", `^TestFoo$/^a\.b\*\(c\)\[d\]\|e\^\$\\$`},
		{"TestFoo/case#01", `^TestFoo$/^case#01$`},
		{"TestFoo/nested/level", `^TestFoo$/^nested$/^level$`},
	} {
		got := runPattern(tc.name)
		assert.Equal(t, tc.want, got, "pattern for %q", tc.name)

		// Level by level, as the testing package matches.
		levels, patterns := strings.Split(tc.name, "/"), strings.Split(got, "/")
		require.Len(t, patterns, len(levels))
		for i := range levels {
			assert.Regexp(t, regexp.MustCompile(patterns[i]), levels[i])
		}
	}
	// Anchored: a prefix or a uniquified sibling must not match.
	assert.NotRegexp(t, `^case$`, "case#01")
	assert.NotRegexp(t, `^TestFoo$`, "TestFoo2")
}

// TestRunIsolatedForced exercises the namespace path even as root, by forcing
// it: each subtest must actually run in a re-executed child in a fresh
// network namespace. The subtest names are chosen to break a naive -test.run
// pattern. Not parallel because it sets an environment variable; its
// subtests are, and they inherit the variable.
func TestRunIsolatedForced(t *testing.T) {
	t.Setenv(ForceNamespaceEnv, "1")
	for _, name := range []string{
		"plain",
		"regexp meta .*+?()[]{}|^$\\",
		"nested/levels",
		"dup",
		"dup", // becomes dup#01
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if RunIsolated(t) {
				return
			}
			// Only the child may get here: in the parent, a forced
			// RunIsolated either ran the test in a child or skipped.
			require.Equal(t, "1", os.Getenv(childEnv), "forced RunIsolated ran the test outside the namespace")

			// A fresh network namespace: only lo, and it was brought up.
			ifaces, err := net.Interfaces()
			require.NoError(t, err)
			require.Len(t, ifaces, 1)
			assert.Equal(t, "lo", ifaces[0].Name)
			assert.NotZero(t, ifaces[0].Flags&net.FlagUp, "lo must be up")
			assert.Equal(t, 0, os.Geteuid(), "the user must be mapped to root")

			// And the helpers really work there.
			require.NoError(t, Check())
			client, server := Pair(t)
			require.NoError(t, Reboot(server))
			_, err = client.Write([]byte{1})
			require.NoError(t, err)
			require.NoError(t, client.SetReadDeadline(time.Now().Add(5*time.Second)))
			_, err = client.Read(make([]byte, 1))
			require.ErrorIs(t, err, syscall.ECONNRESET)
		})
	}
}
