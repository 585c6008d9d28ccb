#!/usr/bin/env bash
# Compile-checks the pollio package (library, tests and examples) for every target it supports
# but the host: macOS, iOS and the BSDs (kqueue), Android and OpenHarmony (epoll, and poll(2) on
# request), and the Unix systems with neither (poll(2): illumos, Solaris, Haiku, GNU/Hurd, QNX
# Neutrino, Redox, Cygwin), so a type error in a backend, or in a test as it compiles there,
# fails CI on a Linux machine. The workspace's other members, the benchmarks and the model test,
# are Linux-only and not checked here.
#
# It uses Debian's rustc-web toolchain (installed if missing), which ships the standard
# library's sources: `-Zbuild-std` builds `std` for each target from them, so no prebuilt
# target library is needed. RUSTC_BOOTSTRAP=1 allows that unstable flag on a stable compiler.
#
# Usage: ci/cross-check.sh [TARGET...]   (default: every target below)
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(
    # kqueue
    aarch64-apple-darwin
    x86_64-apple-darwin
    aarch64-apple-ios
    x86_64-unknown-freebsd
    x86_64-unknown-netbsd
    x86_64-unknown-openbsd
    x86_64-unknown-dragonfly
    # epoll, and poll(2) on request
    aarch64-linux-android
    x86_64-linux-android
    armv7-unknown-linux-ohos
    # poll(2) only
    x86_64-unknown-illumos
    x86_64-pc-solaris
    sparcv9-sun-solaris
    x86_64-unknown-haiku
    x86_64-unknown-hurd-gnu
    x86_64-pc-nto-qnx710
    x86_64-unknown-redox
    x86_64-pc-cygwin
)
if [ "$#" -gt 0 ]; then
    targets=("$@")
fi

# Debian's toolchain lives in /usr/bin; its std sources under its sysroot.
std_sources() {
    local sysroot
    sysroot=$(/usr/bin/rustc --print sysroot 2>/dev/null) || return 1
    [ -f "$sysroot/lib/rustlib/src/rust/library/std/Cargo.toml" ]
}

if [ ! -x /usr/bin/cargo ] || [ ! -x /usr/bin/rustc ] || ! std_sources; then
    echo "== installing rustc-web, cargo-web and rust-web-src"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends rustc-web cargo-web rust-web-src
fi

# Only Debian's toolchain: no rustup override may pick another compiler.
unset RUSTUP_TOOLCHAIN RUSTC RUSTDOC RUSTC_WRAPPER RUSTFLAGS CARGO_BUILD_TARGET
export PATH="/usr/bin:$PATH"
export RUSTC_BOOTSTRAP=1
# Away from the host build, which another toolchain compiles.
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/cross"

/usr/bin/cargo --version
failed=()
for target in "${targets[@]}"; do
    echo "== cargo check --target $target"
    if ! /usr/bin/cargo check --quiet -Zbuild-std=std,panic_abort -p pollio \
        --lib --tests --examples --target "$target" --target-dir "$target_dir"; then
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "cross-check FAILED for: ${failed[*]}" >&2
    exit 1
fi
echo "cross-check passed for: ${targets[*]}"
