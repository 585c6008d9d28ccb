# Sourced (not run) by ci/windows.sh and bench/windows.sh, from the repository's root: sets up
# what building for x86_64-pc-windows-gnu and running the result under Wine needs, and exports
# it. Installs mingw-w64, wine64 and Debian's rustc-web toolchain if missing; prepares a Wine
# prefix under the target directory once (`wineboot -i`, about 25 s) and reuses it while it
# exists; puts the stand-in bcryptprimitives.dll in it (see ci/windows.sh).
#
# Leaves: $target, $target_dir, $build_std (an array), now(), elapsed(), and the environment
# (PATH, RUSTC_BOOTSTRAP, WINEPREFIX, WINEDEBUG, the linker and runner variables).

target=x86_64-pc-windows-gnu
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
need=()
for pkg in gcc-mingw-w64-x86-64 wine64; do
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
build_std=(-Zbuild-std=std,panic_abort,test)

