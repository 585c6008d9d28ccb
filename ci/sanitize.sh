#!/usr/bin/env bash
# The test suite under AddressSanitizer + LeakSanitizer (nightly toolchain) and under valgrind
# memcheck. Both must be clean.
#
# Usage: ci/sanitize.sh [asan|valgrind]   (default: both)
#
# The sanitizer build has its own target directory (target/sanitize, or
# $CARGO_TARGET_DIR/sanitize) because its flags differ from the normal build's. Only pollio and
# the tests are instrumented; the standard library comes prebuilt with the toolchain, which is
# enough for AddressSanitizer (it needs no rust-src). Doc tests are left out: rustdoc does not
# pass the sanitizer flags to them.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

host=x86_64-unknown-linux-gnu
passes=("$@")
if [ "${#passes[@]}" -eq 0 ]; then
    passes=(asan valgrind)
fi

asan() {
    step "AddressSanitizer + LeakSanitizer (cargo +nightly test --lib --tests)"
    local sysroot runtime
    if ! sysroot=$(rustc +nightly --print sysroot 2>/dev/null); then
        echo "the nightly toolchain is not installed (rustup toolchain install nightly)" >&2
        return 1
    fi
    runtime="$sysroot/lib/rustlib/$host/lib/librustc-nightly_rt.asan.a"
    if [ ! -f "$runtime" ]; then
        echo "nightly has no AddressSanitizer runtime for $host ($runtime)" >&2
        return 1
    fi
    rustc +nightly --version
    RUSTFLAGS="-Zsanitizer=address" \
        ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1" \
        cargo +nightly test --target "$host" \
        --target-dir "${CARGO_TARGET_DIR:-$PWD/target}/sanitize" --lib --tests
}

memcheck() {
    step "valgrind memcheck (every test binary)"
    local names=(lib) file
    for file in tests/*.rs tests/*/main.rs model/tests/*.rs; do
        [ -e "$file" ] || continue
        if [ "$(basename "$file")" = main.rs ]; then
            names+=("$(basename "$(dirname "$file")")")
        else
            names+=("$(basename "$file" .rs)")
        fi
    done
    ci/valgrind.sh "${names[@]}"
}

for pass in "${passes[@]}"; do
    case "$pass" in
        asan) asan ;;
        valgrind) memcheck ;;
        *)
            echo "unknown pass: $pass (asan or valgrind)" >&2
            exit 2
            ;;
    esac
done
step "sanitize: ${passes[*]} clean"
