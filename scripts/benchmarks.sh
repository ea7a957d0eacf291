#!/usr/bin/env bash
# Reproduces every number in BENCHMARKS.md and regenerates its figure:
#
#   scripts/benchmarks.sh            # results in bench-results/
#
# Needs Linux, and root or unprivileged user namespaces for the dead-peer
# measurements. Takes about 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
out=bench-results
mkdir -p "$out"
BENCHSTAT="go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"
step() { printf '\n==> %s\n' "$*"; }

step "environment"
{
	go version
	uname -srm
	grep -m1 'model name' /proc/cpuinfo || true
	echo "cores: $(nproc)"
} | tee "$out/env.txt"

step "Apply and Get against Go's SetKeepAliveConfig"
go test -run '^$' -bench 'Apply|Get' -benchmem -count 10 . >"$out/apply.txt"
$BENCHSTAT -col /impl "$out/apply.txt" | tee "$out/apply-benchstat.txt"

step "Inspect against unix.GetsockoptTCPInfo"
go test -run '^$' -bench 'Inspect' -benchmem -count 10 . >"$out/inspect.txt"
$BENCHSTAT -col /impl "$out/inspect.txt" | tee "$out/inspect-benchstat.txt"
# The same, each implementation in a process of its own, alternately.
go test -c -o "$out/keepalive.test" .
for _ in 1 2 3 4 5 6 7 8; do
	for impl in 'xsys' 'keepalive$' 'keepalive-tls'; do
		"$out/keepalive.test" -test.run '^$' -test.bench "Inspect/impl=$impl" -test.benchmem -test.benchtime 200000x
	done
done >"$out/inspect-alternating.txt"
$BENCHSTAT -col /impl "$out/inspect-alternating.txt" | tee "$out/inspect-alternating-benchstat.txt"

step "heartbeat: Monitor refresh against time.Timer, SetReadDeadline and the seeds' list+map queue"
go test -run '^$' -bench 'Refresh|Memory|Expiry' -benchmem -count 6 -cpu 1,2 ./heartbeat/ >"$out/heartbeat.txt"
# One benchmark per implementation becomes one column per implementation;
# the keys=N sub-benchmarks stay rows.
sed -E 's/^Benchmark(Monitor|Timer|SeedQueue|Deadline)(Refresh|RefreshParallel|Memory)([/[:space:]-])/Benchmark\2\/impl=\1\3/' \
	"$out/heartbeat.txt" >"$out/heartbeat-by-impl.txt"
$BENCHSTAT -col /impl -filter '/impl:(Monitor OR Timer OR SeedQueue OR Deadline)' "$out/heartbeat-by-impl.txt" | tee "$out/heartbeat-benchstat.txt"

step "heartbeat: refresh by key count, every implementation in the same process, 6 rounds"
go test -c -o "$out/heartbeat.test" ./heartbeat/
for round in 1 2 3 4 5 6; do
	"$out/heartbeat.test" -test.run '^$' -test.bench '^Benchmark(Monitor|Timer|SeedQueue|Deadline)Refresh(Move)?$' -test.count 1
done >"$out/heartbeat-rounds.txt"
# Per round and key count: each baseline's ns/op over the Monitor's.
awk '/^Benchmark[A-Za-z]+Refresh(Move)?\/keys=/ {
		split($1, f, "/"); impl = f[1]; sub(/^Benchmark/, "", impl); keys = f[2]; sub(/-[0-9]+$/, "", keys)
		if (impl == "MonitorRefresh") { mon[keys] = $3; next }
		if (keys in mon) printf "%s %s: %.1fx\n", impl, keys, $3 / mon[keys]
	}' "$out/heartbeat-rounds.txt" | sort | tee "$out/heartbeat-rounds-ratios.txt"

step "heartbeat: two-core parallel refresh, Monitor and Timer in the same process, 6 rounds"
for round in 1 2 3 4 5 6; do
	"$out/heartbeat.test" -test.run '^$' -test.bench '^Benchmark(Monitor|Timer)RefreshParallel$' -test.cpu 2 -test.count 1
done >"$out/heartbeat-parallel2.txt"
awk '/^BenchmarkMonitorRefreshParallel-2/ { m = $3 }
	/^BenchmarkTimerRefreshParallel-2/ { n++; printf "round %d: Monitor %s ns/op, Timer %s ns/op, ratio %.1fx\n", n, m, $3, $3 / m }' \
	"$out/heartbeat-parallel2.txt" | tee "$out/heartbeat-parallel2-ratios.txt"

step "dead-peer detection time / bound"
go test -count=1 -run 'DeadPeer|DeadClient' -v . >"$out/deadpeer.txt" 2>&1
sed -n '/^dead-peer detection times, measured:/,$p' "$out/deadpeer.txt" | grep -v '^ok' | tee "$out/deadpeer-report.txt"

step "one budget, every layer: net/http, gRPC, WebSocket"
go test -count=1 -run 'DeadPeer|Policy|Fight' -v ./keepalivehttp/ ./keepalivegrpc/ ./keepalivews/ >"$out/layers.txt" 2>&1
grep -E '^(\[netns\] )?(net/http|gRPC|WebSocket): ' "$out/layers.txt" | sort -u | tee "$out/layers-report.txt"

step "real drivers against real servers: pgx, go-redis, go-sql-driver/mysql, lib/pq"
source .ci/services.sh # PostgreSQL, Redis, MariaDB on loopback, stopped at exit
go test -count=5 -run 'VanishingServer' -v ./examples/dbdialer/ ./examples/goredis/ ./examples/mysql/ ./examples/libpq/ >"$out/drivers.txt" 2>&1
grep -E '^  [a-z/-]+: ' "$out/drivers.txt" | sort | tee "$out/drivers-report.txt"

step "TestScale: 10,000 connections, 1,000 vanish"
SCALE_OUT="$PWD/$out/scale-ratios.txt" SCALE_PREDICTED_OUT="$PWD/$out/scale-predicted.txt" go test -count=1 -run '^TestScale$' -v ./internal/scale/ >"$out/scale.txt" 2>&1
grep '^scale:' "$out/scale.txt" | tee "$out/scale-summary.txt"
go run ./internal/cmd/scaleplot -in "$out/scale-ratios.txt" -predicted "$out/scale-predicted.txt" -out docs/scale-detection.svg \
	-title "TestScale: 1,000 of 10,000 connections vanish (Idle 1s, Interval 1s, Count 3; bound 4s)"
echo "figure: docs/scale-detection.svg"

if [ -x scripts/accept-overhead.sh ]; then
	step "accept overhead under wrk"
	scripts/accept-overhead.sh | tee "$out/accept-overhead.txt"
fi
