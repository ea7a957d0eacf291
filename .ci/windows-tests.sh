#!/usr/bin/env bash
# CI step: the windows/amd64 test suite, run under Wine on Linux, with the
# race detector, including the end-to-end dead-peer test against a peer that
# vanishes (internal/cmd/blackholed, which needs CAP_NET_ADMIN).
#
#   .ci/windows-tests.sh [go test flags, e.g. -run TestWindows]
#
# Environment:
#   KEEPALIVE_ALLOW_SKIP_E2E=1  if the black-holing peer cannot run here (no
#                               CAP_NET_ADMIN), skip the end-to-end test
#                               instead of failing
#   WINDOWS_TESTS_RACE=0        no race detector (it needs cgo: mingw-w64)
#   WINDOWS_TESTS_TIMEOUT       hard limit for the go test run (default 15m)
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
cleanup() {
	if [ -n "$helper" ]; then
		kill "$helper" 2>/dev/null || true
		wait "$helper" 2>/dev/null || true
	fi
	"$root/.ci/wine/exec.sh" --kill || true
	rm -rf "$tmp"
}
trap cleanup EXIT

step "wine"
bash .ci/wine-setup.sh

step "black-holing peer (internal/cmd/blackholed)"
go build -o "$tmp/blackholed" ./internal/cmd/blackholed
"$tmp/blackholed" -max-life 30m >"$tmp/addr" 2>"$tmp/blackholed.log" </dev/null &
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
	# The race detector needs cgo, hence mingw-w64's C compiler.
	race=(-race)
	export CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc
else
	echo "    race detector off (WINDOWS_TESTS_RACE=0)"
fi

step "go test ${race[*]} ./... (windows/amd64 under Wine)"
t1=$(now)
status=0
GOOS=windows GOARCH=amd64 timeout --kill-after=30s "${WINDOWS_TESTS_TIMEOUT:-15m}" \
	go test "${race[@]}" -count=1 -v -timeout 5m -exec "$root/.ci/wine/exec.sh" "$@" ./... \
	</dev/null >"$tmp/test.log" 2>&1 || status=$?
# Without the passing tests' chatter: failures, skips and package results.
grep -v -E '^(=== (RUN|PAUSE|CONT|NAME)|--- PASS|PASS$)|^ +--- PASS' "$tmp/test.log" || true
echo "    (go test: ${status}, $(elapsed "$t1")s)"

step "skipped tests, and why"
# go test -v prints a test's log, its skip reason included, just before its
# --- SKIP line.
if grep -q -- '--- SKIP' "$tmp/test.log"; then
	grep -B2 -- '--- SKIP' "$tmp/test.log" | grep -v -E '^(=== |--$)' || true
else
	echo "    none"
fi

if [ -n "$helper" ]; then
	step "blackholed log"
	sed 's/^/    /' "$tmp/blackholed.log"
fi

echo
echo "==> windows tests done in $(elapsed "$t0")s"
exit "$status"
