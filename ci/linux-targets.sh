#!/usr/bin/env bash
# Runs the whole test suite (`cargo test`: the conformance suite, the model test, stress, fd and
# allocation checks, signals, fork, doctests excepted) on 32-bit x86 and on 64-bit ARM Linux:
#
# - i686-unknown-linux-gnu runs natively on an x86_64 machine (`gcc -m32` links it);
# - aarch64-unknown-linux-gnu runs under qemu-user, linked by gcc-aarch64-linux-gnu.
#
# Both use Debian's rustc-web toolchain with `-Zbuild-std` (RUSTC_BOOTSTRAP=1 allows it on a
# stable compiler), which builds the standard library for the target from source, so no
# prebuilt target library is needed. Installs what it needs with apt.
#
# Under qemu-user, POLLIO_UNDER_QEMU=1 is set, so a test that needs what the emulator lacks can
# skip itself there and say why. Today: the child-exit tests (conformance `children`), because
# qemu-user 7.2 with glib 2.74 can hang a child it forks from a multi-threaded process before
# its exec (blocked for good in g_slice_alloc under tcg_tb_insert, on a lock another thread held
# at the fork; 3 runs in 500 of those tests), and such a child never exits; and the unit test
# of the child-exit thread's signal mask, which reads /proc, where qemu's own host mask shows.
# qemu does not know epoll_pwait2 (its syscall 441), so there the sub-millisecond timeouts take
# the millisecond fallback, which the timeout tests check (they probe for epoll_pwait2 and allow
# the rounding up without it).
#
# Usage: ci/linux-targets.sh [TARGET...]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(i686-unknown-linux-gnu aarch64-unknown-linux-gnu)
if [ "$#" -gt 0 ]; then
    targets=("$@")
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
need=()
for target in "${targets[@]}"; do
    case "$target" in
        # What `gcc -m32` needs to link, without Debian's gcc-multilib metapackage: that one
        # conflicts with gcc-aarch64-linux-gnu, and apt would remove one for the other.
        i686-*)
            gcc_major=$(gcc -dumpversion | cut -d. -f1)
            for pkg in libc6-dev-i386 "lib32gcc-$gcc_major-dev"; do
                dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
            done
            ;;
        aarch64-*)
            for pkg in qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross; do
                dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
            done
            ;;
    esac
done
sysroot=$(/usr/bin/rustc --print sysroot 2>/dev/null || true)
if [ ! -x /usr/bin/cargo ] || [ ! -f "$sysroot/lib/rustlib/src/rust/library/std/Cargo.toml" ]; then
    need+=(rustc-web cargo-web rust-web-src)
fi
if [ "${#need[@]}" -gt 0 ]; then
    echo "== installing ${need[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Only Debian's toolchain: no rustup override may pick another compiler.
unset RUSTUP_TOOLCHAIN RUSTC RUSTDOC RUSTC_WRAPPER RUSTFLAGS CARGO_BUILD_TARGET
export PATH="/usr/bin:$PATH"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="env POLLIO_UNDER_QEMU=1 qemu-aarch64 -L /usr/aarch64-linux-gnu"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/linux-targets"

/usr/bin/cargo --version
failed=()
for target in "${targets[@]}"; do
    echo "== cargo test --target $target"
    # Doctests need a host-runnable rustdoc for the target; the suite proper is what matters.
    if ! /usr/bin/cargo test -Zbuild-std=std,panic_abort,test --target "$target" \
        --target-dir "$target_dir" --lib --bins --tests; then
        failed+=("$target")
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "linux-targets FAILED for: ${failed[*]}" >&2
    exit 1
fi
echo "linux-targets passed for: ${targets[*]}"
