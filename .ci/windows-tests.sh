#!/usr/bin/env bash
# CI step: the windows/amd64 test suite, run on Linux under two Wines, each
# with the race detector and the end-to-end dead-peer test against a peer
# that vanishes (internal/cmd/blackholed, which needs CAP_NET_ADMIN):
#
#   Wine 8 (the host's, Debian 12): only SIO_KEEPALIVE_VALS, so the suite runs
#     Windows' fallback path, as on Windows before 1709 (.ci/wine-setup.sh);
#   Wine 10 (Debian 13's, in a root of its own): TCP_KEEPIDLE, TCP_KEEPINTVL
#     and TCP_KEEPCNT, so it runs the per-socket path of Windows 1709 and
#     later, without TCP_MAXRT(MS) (.ci/wine10-setup.sh).
#
#   .ci/windows-tests.sh [go test flags, e.g. -run TestWindows]
#
# Environment:
#   WINDOWS_TESTS_WINES         which Wines, in order (default "8 10")
#   KEEPALIVE_ALLOW_SKIP_E2E=1  if the black-holing peer cannot run here (no
#                               CAP_NET_ADMIN), skip the end-to-end test
#                               instead of failing
#   WINDOWS_TESTS_RACE=0        no race detector (it needs cgo: mingw-w64)
#   WINDOWS_TESTS_TIMEOUT       hard limit for each go test run (default 15m)
#   WINE10_ROOT                 where Wine 10's root is (.ci/wine10-setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin:$PATH"

now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN{printf "%.1f", a-b}'; }
t0=$(now)
step() { printf '\n==> %s\n' "$*"; }

tmp=$(mktemp -d)
helper=
killers=()
# Two checkouts' CI on one machine, or a go test -exec by hand, share each
# Wine's wineserver. This run, and each program the exec wrappers run, hold
# this lock shared; the run stops the wineservers at the end only if it can
# then take it alone: never under another run's programs. (Left running, a
# wineserver exits by itself a minute after its last program.)
exec 7>>/tmp/keepalive-windows-tests.lock
flock -s 7
cleanup() {
	if [ -n "$helper" ]; then
		kill "$helper" 2>/dev/null || true
		wait "$helper" 2>/dev/null || true
	fi
	if flock -n -x 7; then
		for k in "${killers[@]}"; do
			"$k" --kill 7>&- || true
		done
	else
		echo "    (another run of the Windows tests is going on: its Wines are left running)"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

wines=(${WINDOWS_TESTS_WINES:-8 10})
declare -A exec_of
for w in "${wines[@]}"; do
	t1=$(now)
	case "$w" in
	8)
		step "wine 8 (host packages, prefix \${WINEPREFIX:-\$HOME/.wine-keepalive})"
		bash .ci/wine-setup.sh 7>&-
		exec_of[8]=$root/.ci/wine/exec.sh
		;;
	10)
		step "wine 10 (debian 13 root)"
		exec_of[10]=$(bash .ci/wine10-setup.sh 7>&-)
		;;
	*)
		echo "!! unknown Wine '$w' in WINDOWS_TESTS_WINES (8 or 10)" >&2
		exit 2
		;;
	esac
	killers+=("${exec_of[$w]}")
	echo "    (wine $w ready: $(elapsed "$t1")s)"
done

step "black-holing peer (internal/cmd/blackholed)"
# A Linux program: not built with the C compiler the race detector uses for
# Windows below (or that the caller exported).
CGO_ENABLED=0 go build -o "$tmp/blackholed" ./internal/cmd/blackholed
"$tmp/blackholed" -max-life 60m >"$tmp/addr" 2>"$tmp/blackholed.log" </dev/null 7>&- &
helper=$!
addr=
for _ in $(seq 100); do # 10 s
	addr=$(head -n1 "$tmp/addr")
	if [ -n "$addr" ] || ! kill -0 "$helper" 2>/dev/null; then
		break
	fi
	sleep 0.1
done
if [ -n "$addr" ]; then
	echo "    listening on $addr"
	export KEEPALIVE_BLACKHOLE_ADDR=$addr
else
	echo "    blackholed did not start:"
	sed 's/^/    /' "$tmp/blackholed.log"
	if [ "${KEEPALIVE_ALLOW_SKIP_E2E:-0}" != 1 ]; then
		echo "!! the end-to-end dead-peer test needs it (run as root or with CAP_NET_ADMIN);" >&2
		echo "!! set KEEPALIVE_ALLOW_SKIP_E2E=1 to skip that test instead" >&2
		exit 1
	fi
	echo "    SKIP: TestWindowsDeadPeer will be skipped (KEEPALIVE_ALLOW_SKIP_E2E=1)"
	helper=
fi

race=()
if [ "${WINDOWS_TESTS_RACE:-1}" != 0 ]; then
	# The race detector needs cgo, hence mingw-w64's C compiler
	# (.ci/wine-setup.sh installs it).
	race=(-race)
	export CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc
	command -v "$CC" >/dev/null || {
		echo "!! $CC not found: run .ci/wine-setup.sh, or set WINDOWS_TESTS_RACE=0" >&2
		exit 1
	}
else
	echo "    race detector off (WINDOWS_TESTS_RACE=0)"
fi

status=0
summary=()
for w in "${wines[@]}"; do
	step "wine $w: go test ${race[*]} ./... (windows/amd64)"
	t1=$(now)
	st=0
	log=$tmp/test-wine$w.log
	GOOS=windows GOARCH=amd64 timeout --kill-after=30s "${WINDOWS_TESTS_TIMEOUT:-15m}" \
		go test "${race[@]}" -count=1 -v -timeout 5m -exec "${exec_of[$w]}" "$@" ./... \
		</dev/null >"$log" 2>&1 7>&- || st=$?
	# Without the passing tests' chatter: failures, skips and package results.
	grep -v -E '^(=== (RUN|PAUSE|CONT|NAME)|--- PASS|PASS$)|^ +--- PASS' "$log" || true
	took=$(elapsed "$t1")
	echo "    (wine $w: go test exit ${st}, ${took}s)"

	echo "    skipped tests under wine $w, and why:"
	# go test -v prints a test's log, its skip reason included, just before
	# its --- SKIP line.
	if grep -q -- '--- SKIP' "$log"; then
		grep -B2 -- '--- SKIP' "$log" | grep -v -E '^(=== |--$)' | sed 's/^/    /' || true
	else
		echo "    none"
	fi
	passed=$(grep -c -E '^ *--- PASS' "$log" || true)
	failed=$(grep -c -E '^ *--- FAIL' "$log" || true)
	skipped=$(grep -c -E '^ *--- SKIP' "$log" || true)
	summary+=("wine $w: exit $st, $passed passed, $failed failed, $skipped skipped (tests and subtests), ${took}s")
	[ "$st" = 0 ] || status=$st
done

if [ -n "$helper" ]; then
	step "blackholed log"
	sed 's/^/    /' "$tmp/blackholed.log"
fi

echo
for line in "${summary[@]}"; do
	echo "==> $line"
done
echo "==> windows tests done in $(elapsed "$t0")s"
exit "$status"
