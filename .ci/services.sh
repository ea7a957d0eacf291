#!/usr/bin/env bash
# Real database servers for the driver tests: PostgreSQL 15, Redis 7.0 and
# MariaDB 10.11 from Debian's packages, each on loopback, run as a user that
# can run it (the package's own user when started as root, else the caller),
# with their data in a fresh temporary directory.
#
#   source .ci/services.sh         # from .ci/run: start all, export their
#                                  # addresses, stop them when the shell exits
#   bash .ci/services.sh start [postgres|redis|mariadb]...
#                                  # start, print `export NAME=value` lines
#                                  # (KEEPALIVE_SERVICES_DIR among them)
#   bash .ci/services.sh stop DIR  # stop what start started in DIR
#
# Exported: KEEPALIVE_POSTGRES_URL, KEEPALIVE_REDIS_ADDR, KEEPALIVE_MYSQL_DSN.
# Missing packages are installed with apt-get (as root). Timings go to stderr.

ks_fail() { echo "services: $*" >&2; return 1; }
ks_now() { date +%s.%N; }
ks_took() { awk -v what="$1" -v t0="$2" -v t1="$(ks_now)" 'BEGIN { printf "services: %-32s %5.2fs\n", what, t1 - t0 }' >&2; }

# ks_free_port prints a TCP port on 127.0.0.1 that nothing listens on (a
# connection to it is refused), picked at random between the well-known
# ports and the ephemeral range.
ks_free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768-)
		if ! (: >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	ks_fail "no free port found"
}

# ks_as USER CMD... runs CMD as USER when root, else as the caller.
ks_as() {
	local user=$1; shift
	if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

ks_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }

# ks_install installs the Debian packages of the services whose binaries are
# missing.
ks_install() {
	local pkgs=() s
	for s in "$@"; do
		case $s in
		postgres) [ -x "$(ks_pg_bin)/postgres" ] || pkgs+=(postgresql) ;;
		redis) command -v redis-server >/dev/null || pkgs+=(redis-server) ;;
		mariadb) [ -x /usr/sbin/mariadbd ] || pkgs+=(mariadb-server) ;;
		*) ks_fail "unknown service $s"; return ;;
		esac
	done
	[ ${#pkgs[@]} -eq 0 ] && return
	[ "$(id -u)" = 0 ] || { ks_fail "not installed: ${pkgs[*]} (apt-get install them as root)"; return; }
	local t0; t0=$(ks_now)
	apt-get update -qq >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			-o DPkg::Lock::Timeout=300 "${pkgs[@]}" >/dev/null || return
	ks_took "install ${pkgs[*]}" "$t0"
}

ks_start_postgres() {
	local dir=$1 bin port t0
	t0=$(ks_now)
	bin=$(ks_pg_bin)
	port=$(ks_free_port)
	mkdir -p "$dir/postgres" && { chown postgres: "$dir/postgres" 2>/dev/null || true; }
	ks_as postgres "$bin/initdb" -D "$dir/postgres/data" -A trust -U postgres -E UTF8 --no-sync >"$dir/postgres/initdb.log" 2>&1 ||
		{ cat "$dir/postgres/initdb.log" >&2; ks_fail "initdb failed"; return; }
	ks_as postgres "$bin/pg_ctl" -D "$dir/postgres/data" -l "$dir/postgres/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir/postgres -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >/dev/null ||
		{ cat "$dir/postgres/server.log" >&2; ks_fail "postgres did not start"; return; }
	echo "export KEEPALIVE_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	ks_took "postgres on 127.0.0.1:$port" "$t0"
}

ks_start_redis() {
	local dir=$1 port t0 i
	t0=$(ks_now)
	port=$(ks_free_port)
	mkdir -p "$dir/redis" && { chown redis: "$dir/redis" 2>/dev/null || true; }
	ks_as redis redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
		--daemonize yes --dir "$dir/redis" --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/server.log" ||
		{ ks_fail "redis did not start"; return; }
	for i in $(seq 100); do
		[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && break
		sleep 0.1
	done
	[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] ||
		{ cat "$dir/redis/server.log" >&2; ks_fail "redis does not answer"; return; }
	echo "export KEEPALIVE_REDIS_ADDR=127.0.0.1:$port"
	ks_took "redis on 127.0.0.1:$port" "$t0"
}

ks_start_mariadb() {
	local dir=$1 port t0 i user=mysql sock
	t0=$(ks_now)
	[ "$(id -u)" = 0 ] || user=$(id -un)
	port=$(ks_free_port)
	sock=$dir/mariadb/server.sock
	# A private tmpdir: the bootstrap's temporary tables in a shared /tmp
	# were once seen to collide with another server's ("Could not remove
	# temporary table ... Unknown table 'mysql.tmp_proxies_priv'").
	mkdir -p "$dir/mariadb/tmp" && { chown -R mysql: "$dir/mariadb" 2>/dev/null || true; }
	mariadb-install-db --no-defaults --user="$user" --datadir="$dir/mariadb/data" --tmpdir="$dir/mariadb/tmp" \
		--auth-root-authentication-method=normal --skip-test-db >"$dir/mariadb/install.log" 2>&1 ||
		{ cat "$dir/mariadb/install.log" >&2; ks_fail "mariadb-install-db failed"; return; }
	ks_as mysql /usr/sbin/mariadbd --no-defaults --datadir="$dir/mariadb/data" --tmpdir="$dir/mariadb/tmp" \
		--bind-address=127.0.0.1 --port="$port" --socket="$sock" --pid-file="$dir/mariadb/server.pid" \
		--skip-name-resolve --skip-log-bin --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=32M \
		--log-error="$dir/mariadb/server.log" </dev/null >>"$dir/mariadb/stdout.log" 2>&1 &
	for i in $(seq 300); do
		[ -S "$sock" ] && mariadb --no-defaults -uroot --socket="$sock" -e 'SELECT 1' >/dev/null 2>&1 && break
		sleep 0.1
	done
	mariadb --no-defaults -uroot --socket="$sock" -e "
		CREATE DATABASE keepalive;
		CREATE USER 'keepalive'@'127.0.0.1' IDENTIFIED BY 'keepalive';
		GRANT ALL ON keepalive.* TO 'keepalive'@'127.0.0.1';" ||
		{ cat "$dir/mariadb/server.log" >&2; ks_fail "mariadb does not answer"; return; }
	echo "export KEEPALIVE_MYSQL_DSN='keepalive:keepalive@tcp(127.0.0.1:$port)/keepalive'"
	ks_took "mariadb on 127.0.0.1:$port" "$t0"
}

# ks_start DIR SERVICE... starts the services in parallel with their data
# under DIR and prints their exports.
ks_start() {
	local dir=$1; shift
	ks_install "$@" || return
	local s pids=() rc=0
	for s in "$@"; do
		ks_start_"$s" "$dir" >"$dir/$s.env" &
		pids+=($!)
	done
	for s in "${pids[@]}"; do wait "$s" || rc=1; done
	for s in "$@"; do cat "$dir/$s.env"; done
	echo "export KEEPALIVE_SERVICES_DIR=$dir"
	return $rc
}

# ks_stop DIR stops every service started with data under DIR, then
# removes DIR.
ks_stop() {
	local dir=$1 t0 pid
	[ -d "$dir" ] || return 0
	t0=$(ks_now)
	[ -d "$dir/postgres/data" ] && { ks_as postgres "$(ks_pg_bin)/pg_ctl" -D "$dir/postgres/data" -m fast -w stop >/dev/null 2>&1 || true; }
	for pid in "$dir/redis/redis.pid" "$dir/mariadb/server.pid"; do
		[ -f "$pid" ] && { kill "$(cat "$pid")" 2>/dev/null || true; }
	done
	for pid in "$dir/redis/redis.pid" "$dir/mariadb/server.pid"; do
		for _ in $(seq 100); do { [ -f "$pid" ] && kill -0 "$(cat "$pid")" 2>/dev/null; } || break; sleep 0.1; done
	done
	rm -rf "$dir"
	ks_took "stop" "$t0"
}

ks_new_dir() {
	local dir
	dir=$(mktemp -d /tmp/keepalive-services.XXXXXX) && chmod 755 "$dir" && echo "$dir"
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	# Sourced: start everything, export, and stop at exit, after whatever
	# EXIT trap the caller already had (which so still sees the exit
	# status).
	ks_dir=$(ks_new_dir) || return 1
	ks_t0=$(ks_now)
	ks_env=$(ks_start "$ks_dir" postgres redis mariadb) || { ks_stop "$ks_dir"; return 1; }
	eval "$ks_env"
	ks_prev_trap=$(trap -p EXIT) # not in a pipe: a pipe's subshell has no traps
	ks_prev_trap=${ks_prev_trap#"trap -- '"}
	ks_prev_trap=${ks_prev_trap%"' EXIT"}
	trap "${ks_prev_trap:-:}; ks_stop '$ks_dir'" EXIT
	ks_took "all services" "$ks_t0"
	return 0
fi

set -uo pipefail
case ${1:-} in
start)
	shift
	[ $# -gt 0 ] || set -- postgres redis mariadb
	dir=$(ks_new_dir) || exit 1
	ks_start "$dir" "$@" || { ks_stop "$dir"; exit 1; }
	;;
stop)
	[ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }
	ks_stop "$2"
	;;
*)
	echo "usage: source $0 | $0 start [postgres|redis|mariadb]... | $0 stop DIR" >&2
	exit 2
	;;
esac
