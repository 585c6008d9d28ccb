#!/usr/bin/env bash
# Builds pollio for 64-bit Windows (x86_64-pc-windows-gnu) and runs its tests under Wine, so the
# Windows backend (AFD polling over an I/O completion port) is tested on a Linux machine.
#
# - Debian's rustc-web toolchain builds the standard library for the target from source
#   (`-Zbuild-std`, allowed on a stable compiler by RUSTC_BOOTSTRAP=1); mingw-w64's gcc links.
# - Wine runs the test binaries in a scratch prefix under the target directory, prepared once
#   (`wineboot -i`, about 25 s) and reused while it exists.
# - Wine releases before 9.0 lack bcryptprimitives.dll, from which Rust's std (1.78+) imports
#   ProcessPrng: every binary would fail to start (0xc0000135). A stand-in built here from
#   ci/windows/bcryptprimitives.c (ProcessPrng over RtlGenRandom) goes into the prefix's
#   system32.
#
# Under Wine, POLLIO_UNDER_WINE=1 is set, so a test that needs what Wine lacks can skip itself
# there and say why.
#
# Usage: ci/windows.sh [CARGO-TEST-ARGS...]   (default: --lib --bins --tests)
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-pc-windows-gnu
now() { date +%s.%N; }
elapsed() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
need=()
for pkg in gcc-mingw-w64-x86-64 wine64 bc; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
sysroot=$(/usr/bin/rustc --print sysroot 2>/dev/null || true)
if [ ! -x /usr/bin/cargo ] || [ ! -f "$sysroot/lib/rustlib/src/rust/library/std/Cargo.toml" ]; then
    need+=(rustc-web cargo-web rust-web-src)
fi
if [ "${#need[@]}" -gt 0 ]; then
    echo "== installing ${need[*]}"
    start=$(date +%s)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${need[@]}"
    echo "== installed in $(($(date +%s) - start)) s"
fi

# Only Debian's toolchain: no rustup override may pick another compiler.
unset RUSTUP_TOOLCHAIN RUSTC RUSTDOC RUSTC_WRAPPER RUSTFLAGS CARGO_BUILD_TARGET
# Debian's wine64 package keeps its programs in /usr/lib/wine (the `wine` package would only
# add launchers in /usr/bin).
export PATH="/usr/bin:/usr/lib/wine:$PATH"
export RUSTC_BOOTSTRAP=1
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/windows"
mkdir -p "$target_dir"

# The Wine prefix: scratch, under the target directory, never the home directory.
export WINEPREFIX="$target_dir/wineprefix"
export WINEDEBUG=-all
system32="$WINEPREFIX/drive_c/windows/system32"
if [ ! -f "$WINEPREFIX/.pollio-ready" ]; then
    echo "== preparing the Wine prefix"
    start=$(now)
    rm -rf "$WINEPREFIX"
    # No Mono or Gecko: nothing here needs .NET or a browser engine, and their installers
    # would ask for a download.
    WINEDLLOVERRIDES="mscoree,mshtml=" wine64 wineboot -i
    wineserver64 -w
    touch "$WINEPREFIX/.pollio-ready"
    echo "== prefix ready in $(elapsed "$start") s"
fi

dll="$target_dir/bcryptprimitives.dll"
if [ ! -f "$dll" ] || [ ci/windows/bcryptprimitives.c -nt "$dll" ]; then
    x86_64-w64-mingw32-gcc -shared -O2 -Wall -Werror -o "$dll" ci/windows/bcryptprimitives.c \
        -ladvapi32
fi
cmp -s "$dll" "$system32/bcryptprimitives.dll" || cp "$dll" "$system32/bcryptprimitives.dll"

export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="env POLLIO_UNDER_WINE=1 wine64"

args=(--lib --bins --tests)
if [ "$#" -gt 0 ]; then
    args=("$@")
fi

/usr/bin/cargo --version
wine64 --version
echo "== cargo test --target $target ${args[*]}"
start=$(now)
# Doctests need a host-runnable rustdoc for the target; the suite proper is what matters.
status=0
/usr/bin/cargo test -Zbuild-std=std,panic_abort,test --target "$target" \
    --target-dir "$target_dir" -p pollio "${args[@]}" || status=$?
echo "== build and tests took $(elapsed "$start") s"
# The prefix's wineserver lingers a few seconds after the last binary; let it go now.
wineserver64 -k 2>/dev/null || true
if [ "$status" -ne 0 ]; then
    echo "windows FAILED" >&2
    exit "$status"
fi
echo "windows passed"
