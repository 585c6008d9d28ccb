#!/usr/bin/env bash
# Checks that nothing breaks code written against the published pollio 0.1.3: every 0.1.x
# release must be a `cargo update` away for its users. Installs cargo-semver-checks from
# crates.io if it is missing (about 12 minutes to build, once per machine).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo semver-checks --version >/dev/null 2>&1; then
    echo "== installing cargo-semver-checks"
    cargo install cargo-semver-checks --locked
fi
cargo semver-checks --baseline-version 0.1.3
