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
# It runs the test suite (`cargo test --lib --bins --tests`: doctests need a rustdoc that runs
# on the target), the examples as smoke tests (release builds), builds the paired benchmark
# runner (bench/windows.sh runs it), and a compile check for x86_64-pc-windows-msvc. Under Wine, POLLIO_UNDER_WINE=1 is set, so a test that needs what
# Wine does not do as Windows does can say so and check what Wine does.
#
# Usage: ci/windows.sh                      everything above
#        ci/windows.sh CARGO-TEST-ARGS...   only `cargo test` with these (e.g. --test windows)
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=windows/env.sh
source ci/windows/env.sh

/usr/bin/cargo --version
wine64 --version
# The prefix's wineserver lingers a few seconds after the last program: wait for it to go,
# rather than kill it (that would kill any other run's programs in the same prefix).
trap 'wineserver64 -w 2>/dev/null || true' EXIT

# With arguments: only `cargo test` with them (for instance `--test windows`).
if [ "$#" -gt 0 ]; then
    echo "== cargo test --target $target $*"
    /usr/bin/cargo test "${build_std[@]}" --target "$target" --target-dir "$target_dir" \
        -p pollio "$@"
    exit
fi

failed=()
echo "== cargo test --target $target (the suite, under Wine)"
start=$(now)
# Doctests need a host-runnable rustdoc for the target; the suite proper is what matters.
log="$target_dir/tests.log"
/usr/bin/cargo test "${build_std[@]}" --target "$target" --target-dir "$target_dir" \
    -p pollio --lib --bins --tests 2>&1 | tee "$log" || failed+=(tests)
# A test binary that Wine ends abruptly has been seen to count as a pass: every binary run
# must have printed its summary.
binaries=$(grep -c '^     Running ' "$log" || true)
summaries=$(grep -c '^test result: ' "$log" || true)
if [ "$binaries" -ne "$summaries" ]; then
    echo "$binaries test binaries ran but $summaries printed a result" >&2
    failed+=(tests-cut-short)
fi
echo "== tests built and run in $(elapsed "$start") s"

# Each example checks its own results and exits non-zero on a wrong answer. Debug builds,
# which share the standard library built for the tests (a release build would build it once
# more). timer_server stops on signals, which Windows does not have.
echo "== the examples, run under Wine"
start=$(now)
examples=(
    "seed_echo"
    "echo --clients 16 --seconds 1"
    "async_echo --clients 16 --seconds 1"
    "mt_echo --shape per-thread --threads 2 --clients 16 --seconds 1"
    "mt_echo --shape shared --threads 2 --clients 16 --seconds 1"
)
for example in "${examples[@]}"; do
    read -r -a words <<<"$example"
    echo "-- $example"
    /usr/bin/cargo run --quiet "${build_std[@]}" --target "$target" \
        --target-dir "$target_dir" -p pollio --example "${words[0]}" -- "${words[@]:1}" ||
        failed+=("example ${words[0]}")
done
echo "== examples built and run in $(elapsed "$start") s"

# The paired benchmark runner, built (not run: it needs a quiet machine and minutes; see
# bench/windows.sh). A debug build, which shares the standard library built for the tests.
echo "== cargo build --bench compare (pollio-bench) --target $target"
start=$(now)
/usr/bin/cargo build --quiet "${build_std[@]}" --target "$target" --target-dir "$target_dir" \
    -p pollio-bench --bench compare || failed+=(bench-build)
echo "== built in $(elapsed "$start") s"

# MSVC: the standard library builds for it without Microsoft's linker, so a check (which
# links nothing) runs here too.
echo "== cargo check --target x86_64-pc-windows-msvc"
start=$(now)
/usr/bin/cargo check --quiet "${build_std[@]}" --target x86_64-pc-windows-msvc \
    --target-dir "$target_dir" -p pollio --lib --tests --examples || failed+=(msvc-check)
echo "== checked in $(elapsed "$start") s"

if [ "${#failed[@]}" -gt 0 ]; then
    echo "windows FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "windows passed"
