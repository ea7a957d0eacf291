#!/usr/bin/env bash
# Prepare a Wine environment that runs this module's windows/amd64 test
# binaries on Linux:
#
#   .ci/wine-setup.sh
#   GOOS=windows GOARCH=amd64 go test -exec "$PWD/.ci/wine/exec.sh" ./...
#   .ci/wine/exec.sh --kill     # stop wineserver at the end of the job
#
# Target: Debian 12 (bookworm), as root (or passwordless sudo),
# non-interactive, idempotent: a re-run only redoes what is missing.
#
# Environment (optional; .ci/wine/exec.sh uses the same default):
#   WINEPREFIX        Wine prefix to create/use (default: $HOME/.wine-keepalive)
#   WINE_SETUP_SMOKE  set to 0 to skip the Go hello-world smoke test
#
# Bookworm ships Wine 8.0, which has no bcryptprimitives.dll. Go >= 1.22
# calls bcryptprimitives!ProcessPrng at startup ("fatal error:
# bcryptprimitives.dll not found" otherwise), so we build a tiny stand-in from
# .ci/wine/bcryptprimitives.c with mingw-w64 and put it in the prefix.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src_dir="$here/wine"

: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
export HOME
export WINEPREFIX="${WINEPREFIX:-$HOME/.wine-keepalive}"
export WINEARCH=win64
export WINEDEBUG=-all
# No Mono (mscoree) / Gecko (mshtml) install prompts; no menu/.desktop files.
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
# Headless: Wine must never try to open a window.
unset DISPLAY WAYLAND_DISPLAY || true
export DEBIAN_FRONTEND=noninteractive

now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN{printf "%.1f", a-b}'; }
t_total=$(now)
step_t=$t_total
step() { step_t=$(now); printf '==> %s\n' "$*"; }
done_step() { printf '    (%ss)\n' "$(elapsed "$step_t")"; }

logdir="$(mktemp -d)"
bg_pid=
cleanup() {
	if [ -n "$bg_pid" ]; then kill "$bg_pid" 2>/dev/null || true; fi
	rm -rf "$logdir"
}
trap cleanup EXIT
# run_logged NAME CMD...: run quietly, dump the log if it fails.
run_logged() {
	local name=$1
	shift
	if ! "$@" </dev/null >"$logdir/$name.log" 2>&1; then
		echo "!! $name failed: $*" >&2
		cat "$logdir/$name.log" >&2
		return 1
	fi
}

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi

# --- 1. Debian packages --------------------------------------------------------
# Debian 12: package wine64 = the 64-bit loader (/usr/lib/wine/wine64,
# wineserver64) + libwine; package wine = /usr/bin/wine, wineboot, wineserver
# wrappers. There is no /usr/bin/wine64 on Debian; /usr/bin/wine execs
# /usr/lib/wine/wine64 when wine32 (i386) is not installed, which is what we
# want (64-bit only, no multiarch needed).
step "packages: wine wine64 gcc-mingw-w64-x86-64-win32"
pkgs=(wine wine64 gcc-mingw-w64-x86-64-win32)
missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
		missing+=("$p")
	fi
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "    installing: ${missing[*]}"
	# Another apt (another checkout's CI, say) may hold the lock: wait for it.
	run_logged apt-update $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
	# --no-install-recommends: libwine recommends hundreds of MB of GL, X,
	# audio and font packages that console test binaries never use.
	run_logged apt-install $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
		-o Dpkg::Use-Pty=0 "${missing[@]}"
else
	echo "    already installed"
fi
WINE="$(command -v wine64 2>/dev/null || command -v wine)"
echo "    $WINE: $("$WINE" --version 2>/dev/null || echo '?')"
done_step

# --- 2. smoke-test binary, built in the background (overlaps step 3) ---------
# Compiling std for windows/amd64 with a cold GOCACHE takes ~10s; overlap it
# with wineboot (not with apt: on a 2-CPU runner that made apt 2x slower).
# go test later reuses the cached std packages.
smoke=0
if [ "${WINE_SETUP_SMOKE:-1}" != 0 ] && command -v go >/dev/null 2>&1; then
	smoke=1
	mkdir -p "$logdir/smoke"
	cp "$src_dir/smoke.go" "$logdir/smoke/main.go"
	(cd "$logdir/smoke" && GOOS=windows GOARCH=amd64 CGO_ENABLED=0 GOFLAGS= \
		go build -o smoke.exe main.go) </dev/null >"$logdir/smoke-build.log" 2>&1 &
	bg_pid=$!
fi

# --- 3. Wine prefix -----------------------------------------------------------
step "wine prefix: $WINEPREFIX"
if [ -f "$WINEPREFIX/system.reg" ] && [ -d "$WINEPREFIX/drive_c/windows/system32" ]; then
	echo "    already initialised"
else
	mkdir -p "$WINEPREFIX"
	# Stdio on /dev/null: wineboot leaves wineserver/services.exe running for
	# a few seconds; they must not hold the caller's stdout/stderr open.
	run_logged wineboot "$WINE" wineboot -i
	# The registry files are written when wineserver exits: wait for it.
	run_logged wineserver-wait "$(command -v wineserver)" -w
	[ -f "$WINEPREFIX/system.reg" ] || {
		echo "!! wineboot did not create $WINEPREFIX/system.reg" >&2
		cat "$logdir/wineboot.log" >&2
		exit 1
	}
fi
done_step

# --- 4. bcryptprimitives.dll stand-in ----------------------------------------
step "bcryptprimitives.dll stand-in (ProcessPrng)"
dll="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
stamp="$WINEPREFIX/.bcryptprimitives.sha256"
want="$(cat "$src_dir/bcryptprimitives.c" "$src_dir/bcryptprimitives.def" | sha256sum | cut -d' ' -f1)"
if [ -f "$dll" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
	echo "    up to date"
else
	# -nostdlib: no CRT; the DLL imports only advapi32 + kernel32.
	x86_64-w64-mingw32-gcc -shared -O2 -nostdlib -e DllMain -s \
		-o "$logdir/bcryptprimitives.dll" \
		"$src_dir/bcryptprimitives.c" "$src_dir/bcryptprimitives.def" \
		-ladvapi32 -lkernel32
	install -m 0644 "$logdir/bcryptprimitives.dll" "$dll"
	echo "$want" >"$stamp"
	echo "    installed $dll"
fi
done_step

# --- 5. smoke test -------------------------------------------------------------
if [ "$smoke" = 1 ]; then
	step "smoke test: Go windows/amd64 binary under wine"
	if ! wait "$bg_pid"; then
		bg_pid=
		echo "!! go build of the smoke test failed:" >&2
		cat "$logdir/smoke-build.log" >&2
		exit 1
	fi
	bg_pid=
	"$src_dir/exec.sh" "$logdir/smoke/smoke.exe"
	done_step
fi

echo "==> wine setup done in $(elapsed "$t_total")s (WINEPREFIX=$WINEPREFIX)"
