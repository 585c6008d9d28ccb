#!/usr/bin/env bash
# Builds the paired runner (bench/benches/compare.rs) for x86_64-pc-windows-gnu and runs it
# under Wine, comparing pollio's Windows backend with polling's. These are Wine figures on a
# Linux host: Wine turns every AFD and completion-port call into a request to its server
# process, so they say how the two crates compare under Wine, not what either costs on
# Windows.
#
# Usage: bench/windows.sh [COMPARE-ARGS...]   e.g. --seconds 30, --only pingpong-1,churn
#        (the runner's options are listed at the top of bench/benches/compare.rs)
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=../ci/windows/env.sh
source ci/windows/env.sh
trap 'wineserver64 -w 2>/dev/null || true' EXIT

wine64 --version
echo "== cargo bench --bench compare --target $target"
/usr/bin/cargo bench "${build_std[@]}" --target "$target" --target-dir "$target_dir" \
    -p pollio-bench --bench compare -- "$@"
