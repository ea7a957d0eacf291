#!/usr/bin/env bash
# go test -exec wrapper: run a windows/amd64 binary under Wine.
#
#   .ci/wine-setup.sh                                   # once
#   GOOS=windows GOARCH=amd64 go test -exec "$PWD/.ci/wine/exec.sh" ./...
#   .ci/wine/exec.sh --kill                             # end of job (optional)
#
# Use an ABSOLUTE path for -exec: go test runs it from each package's dir.
# Exit status is the Windows process's exit code.
#
# Why the wineserver dance below: the first Wine process of a session spawns
# wineserver and Wine's background "system" processes (services.exe,
# explorer.exe, winedevice.exe, ...). They inherit that process's stdout/stderr
# and outlive it. Under go test that fd is the pipe go test reads the test
# output from, so go test would wait for them to exit (seconds, or until
# go test's WaitDelay -> "Test I/O incomplete" / FAIL if wineserver is
# persistent). So we start wineserver and the services ourselves, with stdio
# on /dev/null, before exec'ing the test binary.
set -euo pipefail

: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
export HOME
export WINEPREFIX="${WINEPREFIX:-$HOME/.wine-keepalive}"
export WINEARCH=win64
export WINEDEBUG="${WINEDEBUG:--all}"
# No Mono/Gecko install prompts; no .desktop/menu files written to $HOME.
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=;winemenubuilder.exe=d}"
unset DISPLAY WAYLAND_DISPLAY || true

# WineHQ packages provide wine64; Debian 12 provides /usr/bin/wine (a script
# that execs /usr/lib/wine/wine64 when wine32 is not installed).
wine=$(command -v wine64 2>/dev/null || command -v wine 2>/dev/null) || {
	echo "exec.sh: wine not found; run .ci/wine-setup.sh first" >&2
	exit 127
}
wineserver=$(command -v wineserver 2>/dev/null || echo /usr/lib/wine/wineserver64)

if [ "${1:-}" = "--kill" ]; then
	"$wineserver" -k </dev/null >/dev/null 2>&1 || true
	exit 0
fi
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	echo "exec.sh: no Wine prefix at $WINEPREFIX; run .ci/wine-setup.sh first" >&2
	exit 127
fi

# Keep the server around between test binaries (saves ~0.4s cold start each).
persist="${WINE_PERSIST_SECONDS:-60}"
(
	flock 9
	# Exits non-zero (quickly) if a wineserver already runs for this prefix.
	# Debian's wineserver wrapper prepends -p0; the later -pN wins.
	# 9>&-: the daemons must not inherit (and hold) the lock.
	if "$wineserver" -p"$persist" </dev/null >/dev/null 2>&1 9>&- 6>&-; then
		"$wine" wineboot </dev/null >/dev/null 2>&1 9>&- 6>&- || true
	fi
) 9>"$WINEPREFIX/.exec.lock"

# Held (shared) by the program until it exits: .ci/windows-tests.sh stops
# the wineserver at its end only when nothing holds it.
exec 6>>/tmp/keepalive-windows-tests.lock
flock -s 6
exec "$wine" "$@"
