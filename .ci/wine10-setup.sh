#!/usr/bin/env bash
# Prepare Wine 10 for the windows/amd64 tests on a Debian 12 host, whose own
# Wine is 8.0: an isolated Debian 13 (trixie) root made with debootstrap,
# holding Debian's wine and wine64 (10.0), and a host-side wrapper that runs
# a Windows program inside it. Prints the wrapper's path on stdout:
#
#   wine=$(.ci/wine10-setup.sh)
#   GOOS=windows GOARCH=amd64 go test -exec "$wine" ./...
#   "$wine" --kill                       # end of the job
#
# Why a root of its own: Wine 10 has the per-socket TCP_KEEPIDLE,
# TCP_KEEPINTVL and TCP_KEEPCNT (Wine 8 has only SIO_KEEPALIVE_VALS), so the
# tests of Windows' per-socket path run under it, and it ships
# bcryptprimitives.dll, which Go needs. The host's apt sources and packages
# are never changed (only debootstrap is installed on the host, if missing).
# Nothing is mounted on the host: every mount is made in a private mount
# namespace that ends with the commands using it (for the wrapper, with the
# Wine session). `rm -rf --one-file-system ROOT` undoes everything.
#
# Idempotent and timed: a re-run only does what is missing (about 2 s); the
# first run takes about 1.5 min and about 2 GB of disk. Needs root. Two runs
# at once (two checkouts on one machine) take turns on a lock. Progress goes
# to stderr; stdout gets only the wrapper's path.
#
# Environment (all optional):
#   WINE10_ROOT     the root (default /opt/keepalive-wine10; or the first
#                   argument)
#   WINE10_MIRROR   Debian mirror URL (default: the host's own Debian mirror,
#                   from /etc/apt, else http://deb.debian.org/debian)
#   WINE10_SUITE    default trixie
#   WINE10_SMOKE    0: skip the smoke test (a Go windows/amd64 program; it
#                   runs only if `go` is on PATH)
set -euo pipefail

ROOT=${1:-${WINE10_ROOT:-/opt/keepalive-wine10}}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SUITE=${WINE10_SUITE:-trixie}
PKGS=(wine wine64)
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN{printf "%.1f", a-b}'; }
t_total=$(now)
step_t=$t_total
say() { printf '%s\n' "$*" >&2; }
step() { step_t=$(now); say "==> $*"; }
done_step() { say "    ($(elapsed "$step_t")s)"; }
die() { say "!! $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mount namespaces)"
case "$ROOT" in
/*) ;;
*) ROOT="$PWD/$ROOT" ;;
esac
ROOT=${ROOT%/}
if [ -z "$ROOT" ] || [ "$ROOT" = / ]; then die "ROOT must not be /"; fi
TOOLS="$ROOT/host-tools"
WRAPPER="$TOOLS/wine"

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
# One setup of ROOT at a time; the lock sits beside ROOT, not in it.
mkdir -p "$(dirname "$ROOT")"
exec 8>"$ROOT.setup-lock"
if ! flock -n 8; then
	say "    waiting for another setup of $ROOT"
	flock 8
fi
# Another apt on the host (or a package install elsewhere) may hold the dpkg
# lock for a while: wait for it rather than fail.
APT_WAIT=(-o DPkg::Lock::Timeout=900)
# run_logged NAME CMD...: quiet unless it fails.
run_logged() {
	local name=$1
	shift
	if ! "$@" </dev/null >"$logdir/$name.log" 2>&1; then
		say "!! $name failed: $*"
		tail -n 50 "$logdir/$name.log" >&2
		return 1
	fi
}

# in_ns CMD...: run CMD in a private mount namespace with /proc, /sys and
# /dev of the host mounted in the root.
in_ns() {
	unshare --mount --propagation private -- bash -euc '
		r=$1; shift
		mount --bind /proc "$r/proc"
		mount --rbind /sys "$r/sys"
		mount --rbind /dev "$r/dev"
		exec "$@"' in_ns "$ROOT" "$@"
}

# --- 1. host tools ---------------------------------------------------------
step "host tools"
need=()
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
for t in unshare chroot flock mount; do
	command -v "$t" >/dev/null 2>&1 || need+=(util-linux)
done
if [ "${#need[@]}" -gt 0 ]; then
	say "    installing: ${need[*]}"
	run_logged host-apt-update apt-get "${APT_WAIT[@]}" update -qq
	run_logged host-apt-install apt-get "${APT_WAIT[@]}" install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${need[@]}"
fi
[ -f /usr/share/debootstrap/scripts/"$SUITE" ] || die "debootstrap $(dpkg-query -W -f='${Version}' debootstrap 2>/dev/null) has no script for $SUITE"
done_step

# --- 2. the root -----------------------------------------------------------
mirror() {
	if [ -n "${WINE10_MIRROR:-}" ]; then
		echo "$WINE10_MIRROR"
		return
	fi
	local m
	# deb822 sources first, then one-line sources; the first Debian
	# archive that is not the security one.
	m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk 'tolower($1)=="uris:" {for (i=2;i<=NF;i++) print $i}' |
		grep -v -e security -e '^cdrom:' | grep '/debian/*$' | head -n1 || true)
	if [ -z "$m" ]; then
		m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk '$1=="deb" {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' |
			grep -v security | grep '/debian/*$' | head -n1 || true)
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

is_root_ok() {
	[ -x "$ROOT/usr/bin/apt-get" ] && [ -f "$ROOT/etc/os-release" ] &&
		grep -qx "VERSION_CODENAME=$SUITE" "$ROOT/etc/os-release" &&
		chroot "$ROOT" dpkg-query -W -f='${db:Status-Status}' base-files 2>/dev/null | grep -qx installed
}

step "debian $SUITE root: $ROOT"
if [ -f "$TOOLS/.root-ok" ]; then
	say "    already built"
elif [ -d "$ROOT" ] && is_root_ok; then
	mkdir -p "$TOOLS" && touch "$TOOLS/.root-ok"
	say "    adopted an existing $SUITE root"
elif [ ! -e "$ROOT" ] || [ -z "$(ls -A "$ROOT" 2>/dev/null)" ]; then
	url=$(mirror)
	say "    debootstrap --variant=minbase $SUITE from $url"
	keyring=()
	[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] &&
		keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
	mkdir -p "$ROOT"
	# In its own mount namespace: a failed run leaves no mounts behind.
	run_logged debootstrap unshare --mount --propagation private -- \
		debootstrap --variant=minbase "${keyring[@]}" "$SUITE" "$ROOT" "$url"
	is_root_ok || die "debootstrap finished but $ROOT is not a usable $SUITE root"
	mkdir -p "$TOOLS" && touch "$TOOLS/.root-ok"
else
	die "$ROOT exists and is not a complete $SUITE root (an interrupted debootstrap?): remove it, or pick another ROOT"
fi
done_step

# --- 3. wine -----------------------------------------------------------------
step "packages in the root: ${PKGS[*]}"
missing=()
for p in "${PKGS[@]}"; do
	chroot "$ROOT" dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	say "    installing: ${missing[*]}"
	cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
	[ -f "$ROOT/etc/hosts" ] || cp /etc/hosts "$ROOT/etc/hosts"
	# No daemon may start inside the root.
	printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
	chmod 755 "$ROOT/usr/sbin/policy-rc.d"
	run_logged apt-update in_ns chroot "$ROOT" apt-get update -qq
	# --no-install-recommends: the recommends are X, GL, audio and fonts,
	# which console programs never use.
	run_logged apt-install in_ns chroot "$ROOT" apt-get install -y -qq \
		--no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}"
	chroot "$ROOT" apt-get clean
else
	say "    already installed"
fi
say "    $(in_ns chroot "$ROOT" /usr/lib/wine/wine64 --version)"
done_step

# --- 4. the wrapper ------------------------------------------------------------
step "wrapper: $WRAPPER"
mkdir -p "$TOOLS"
install -m 0755 "$here/wine10/wine" "$TOOLS/.wine.new"
mv -f "$TOOLS/.wine.new" "$WRAPPER"
done_step

# --- 5. the Wine prefix ------------------------------------------------------
step "wine prefix (first boot)"
if [ -f "$ROOT/opt/wine10/prefix/system.reg" ]; then
	say "    already made"
else
	"$WRAPPER" --boot 8>&-
fi
done_step

# --- 6. smoke test -------------------------------------------------------------
if [ "${WINE10_SMOKE:-1}" != 0 ] && command -v go >/dev/null 2>&1; then
	step "smoke test: a Go windows/amd64 program"
	mkdir -p "$logdir/smoke"
	cp "$here/wine/smoke.go" "$logdir/smoke/main.go"
	(cd "$logdir/smoke" && GOOS=windows GOARCH=amd64 CGO_ENABLED=0 GOFLAGS='' \
		go build -o smoke.exe main.go) </dev/null >"$logdir/smoke-build.log" 2>&1 ||
		{ cat "$logdir/smoke-build.log" >&2; die "go build of the smoke test failed"; }
	(cd "$logdir/smoke" && "$WRAPPER" ./smoke.exe) </dev/null >&2 8>&- || die "the smoke test failed under Wine"
	done_step
fi

say "==> done in $(elapsed "$t_total")s"
echo "$WRAPPER"
