#!/usr/bin/env bash
# Runs the fuzz target (fuzz/, `ops`) for a bounded time: random sequences of registrations,
# I/O and waits on epoll and on the poll(2) backend (the input's first byte picks), checked
# against the model test's poll(2) oracle, under AddressSanitizer. See fuzz/README.md.
#
# Installs the nightly toolchain and cargo-fuzz when they are missing (cargo-fuzz takes a few
# minutes to build, once per machine).
#
# Usage: ci/fuzz.sh [SECONDS]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-60}"
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "== installing the nightly toolchain"
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
cargo +nightly fuzz --version
# -seed: libFuzzer picks one from the clock otherwise, and prints it either way, so a finding
# can be replayed; a fixed corpus folder is not kept, each run starts from nothing.
cargo +nightly fuzz run ops -- -max_total_time="$seconds" -rss_limit_mb=4096
