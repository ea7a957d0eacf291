#!/usr/bin/env bash
# Accept and dial overhead of the keepalive helpers against Go's defaults,
# in one run:
#
#  1. accept: wrk (a new connection per request, "Connection: close") against
#     a net/http server, internal/cmd/acceptbench, that listens three times:
#     plain net.Listen (Go's 15 s keepalive, set on each accepted
#     connection), keepalive.Config.Listen ("helper") and net.Listen wrapped
#     with Config.Listener ("wrapped"). They alternate, ROUNDS rounds of
#     DURATION each, the order rotated every round. It prints requests/s per
#     round, the median of the per-round ratios to plain and the ratio of
#     the totals, and fails if a median is below MIN_RATIO.
#  2. dial: BenchmarkDial (plain net.Dialer against Config.Dialer),
#     DIAL_COUNT alternating runs, compared with benchstat.
#
#   scripts/accept-overhead.sh
#   ROUNDS=10 DURATION=10s scripts/accept-overhead.sh
#
# Environment (defaults in brackets): ROUNDS [6], DURATION [5s], WARMUP [2s],
# THREADS [2], CONNS [50] (wrk's -t and -c), MIN_RATIO [0.97], DIAL_COUNT
# [10] (0 skips part 2), BENCHSTAT [golang.org/x/perf/cmd/benchstat at a
# pinned version].
# Needs wrk (Debian: apt-get install -y wrk) and Linux.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

ROUNDS=${ROUNDS:-6}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-50}
MIN_RATIO=${MIN_RATIO:-0.97}
DIAL_COUNT=${DIAL_COUNT:-10}
BENCHSTAT=${BENCHSTAT:-golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da}

if ! command -v wrk >/dev/null; then
	echo "accept-overhead: needs wrk (Debian: apt-get install -y wrk)" >&2
	exit 2
fi

# Two runs at once would measure each other: wait for any other to end.
exec 9>"${TMPDIR:-/tmp}/keepalive-accept-overhead.lock"
flock 9

tmp=$(mktemp -d)
server=
cleanup() {
	if [ -n "$server" ]; then
		kill "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "==> accept: wrk -t$THREADS -c$CONNS -d$DURATION -H 'Connection: close', $ROUNDS rounds, alternating"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
go build -o "$tmp/acceptbench" ./internal/cmd/acceptbench
"$tmp/acceptbench" >"$tmp/urls" 2>"$tmp/server.log" </dev/null &
server=$!
for _ in $(seq 100); do # 10 s
	if [ "$(wc -l <"$tmp/urls")" -ge 3 ] || ! kill -0 "$server" 2>/dev/null; then
		break
	fi
	sleep 0.1
done
names=(plain helper wrapped)
declare -A url
for n in "${names[@]}"; do
	url[$n]=$(awk -v n="$n" '$1 == n {print $2}' "$tmp/urls")
	if [ -z "${url[$n]}" ]; then
		echo "acceptbench did not start:" >&2
		cat "$tmp/server.log" >&2
		exit 1
	fi
done

# bench URL DURATION: prints requests/s; fails on errors or non-2xx answers.
bench() {
	local out
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$2" -H 'Connection: close' "$1")
	if grep -Eq '^ *(Non-2xx|Socket errors)' <<<"$out"; then
		echo "wrk reported errors for $1:" >&2
		echo "$out" >&2
		return 1
	fi
	awk '$1 == "Requests/sec:" {print $2}' <<<"$out"
}

for n in "${names[@]}"; do
	bench "${url[$n]}" "$WARMUP" >/dev/null
done

# One line per round in $results: plain helper wrapped requests/s. The order
# rotates every round, so each listener runs first, second and third
# equally often.
results=$tmp/results
: >"$results"
printf '%-5s %-22s %11s %11s %11s %14s %15s\n' round order plain helper wrapped helper/plain wrapped/plain
for r in $(seq "$ROUNDS"); do
	declare -A rps=()
	order=()
	for i in 0 1 2; do
		n=${names[$(((r - 1 + i) % 3))]}
		order+=("$n")
		rps[$n]=$(bench "${url[$n]}" "$DURATION")
	done
	echo "${rps[plain]} ${rps[helper]} ${rps[wrapped]}" >>"$results"
	awk -v r="$r" -v o="$(IFS=,; echo "${order[*]}")" -v p="${rps[plain]}" -v h="${rps[helper]}" -v w="${rps[wrapped]}" \
		'BEGIN { printf "%-5s %-22s %11.0f %11.0f %11.0f %14.3f %15.3f\n", r, o, p, h, w, h / p, w / p }'
done

# median COLUMN: the median over the rounds of column/plain.
median() {
	awk -v c="$1" '{print $c / $1}' "$results" | sort -g |
		awk '{v[NR] = $1} END {printf "%.3f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
median_helper=$(median 2)
median_wrapped=$(median 3)
awk -v mh="$median_helper" -v mw="$median_wrapped" '{p += $1; h += $2; w += $3} END {
	printf "%-5s %-22s %11.0f %11.0f %11.0f\n", "mean", "", p / NR, h / NR, w / NR
	printf "%-29s %33s %14.3f %15.3f\n", "median of per-round ratios", "", mh, mw
	printf "%-29s %33s %14.3f %15.3f\n", "ratio of totals", "", h / p, w / p
}' "$results"

kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
server=

if [ "$DIAL_COUNT" -gt 0 ]; then
	echo
	echo "==> dial: BenchmarkDial, $DIAL_COUNT alternating runs, benchstat -col /impl"
	go test -c -o "$tmp/acceptbench.test" ./internal/cmd/acceptbench
	for _ in $(seq "$DIAL_COUNT"); do
		for impl in net keepalive; do
			"$tmp/acceptbench.test" -test.run '^$' -test.bench "^BenchmarkDial\$/^impl=$impl\$" -test.benchmem >>"$tmp/dial.txt"
		done
	done
	go run "$BENCHSTAT" -col /impl "$tmp/dial.txt"
fi

status=0
for v in helper:"$median_helper" wrapped:"$median_wrapped"; do
	if awk -v m="${v#*:}" -v min="$MIN_RATIO" 'BEGIN { exit !(m >= min) }'; then
		echo "ok: accept: median ratio ${v%%:*}/plain ${v#*:} >= $MIN_RATIO"
	else
		echo "FAIL: accept: median ratio ${v%%:*}/plain ${v#*:} is below $MIN_RATIO" >&2
		status=1
	fi
done
exit $status
