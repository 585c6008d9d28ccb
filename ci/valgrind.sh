#!/usr/bin/env bash
# Runs test binaries under valgrind's memcheck: any memory error or definite/possible leak
# fails the run.
#
# Usage: ci/valgrind.sh [NAME...]
#   NAME is an integration test (tests/NAME.rs or tests/NAME/main.rs; the model test,
#   model/tests/model.rs, is "model"), or "lib" for the library's unit tests.
#   Default: conformance.
# Extra arguments for the test binaries go in VALGRIND_TEST_ARGS (e.g. a name filter).
set -euo pipefail
cd "$(dirname "$0")/.."

names=("$@")
if [ "${#names[@]}" -eq 0 ]; then
    names=(conformance)
fi

if ! command -v valgrind >/dev/null; then
    echo "== installing valgrind"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind
fi

# Build the binaries and ask cargo where they are: each is a "compiler-artifact" message whose
# target has the test's name and whose profile is a test build.
selectors=()
for name in "${names[@]}"; do
    if [ "$name" = lib ]; then
        selectors+=(--lib)
    else
        selectors+=(--test "$name")
    fi
done
messages=$(cargo test --no-run --message-format=json "${selectors[@]}")

binaries=()
package_dirs=()
leak_checks=()
for name in "${names[@]}"; do
    # A forked child inherits every block the parent's other threads hold and leaves with
    # _exit, so memcheck would call all of them leaked and fail the child's exit status: the
    # fork tests are checked for memory errors only.
    if [ "$name" = fork ]; then
        leak_checks+=(no)
    else
        leak_checks+=(full)
    fi
    kind=test
    if [ "$name" = lib ]; then
        kind=lib
        name=pollio
    fi
    # The binary, and the directory of its package's manifest: cargo runs a test there, and the
    # model test finds its proptest-regressions/ file relative to it.
    found=$(printf '%s\n' "$messages" | python3 -c '
import json, os, sys
name, kind = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    target = msg.get("target", {})
    if (msg.get("reason") == "compiler-artifact" and msg.get("executable")
            and msg.get("profile", {}).get("test")
            and target.get("name") == name and kind in target.get("kind", [])):
        print(msg["executable"], os.path.dirname(msg["manifest_path"]), sep="\t")
' "$name" "$kind")
    if [ -z "$found" ]; then
        echo "no test binary named $name" >&2
        exit 1
    fi
    binaries+=("${found%%$'\t'*}")
    package_dirs+=("${found#*$'\t'}")
done

# The standard library keeps each thread's handle behind a tagged pointer in thread-local
# storage, which memcheck can only call "possibly lost" once the thread is gone: that one
# record is not pollio's and is suppressed by name; every other possible leak still fails.
suppressions=$(mktemp)
trap 'rm -f "$suppressions"' EXIT
cat >"$suppressions" <<'SUPP'
{
   std-current-thread-handle
   Memcheck:Leak
   match-leak-kinds: possible
   ...
   fun:*std*thread*current*init_current*
}
SUPP

read -r -a test_args <<<"${VALGRIND_TEST_ARGS:-}"
for i in "${!binaries[@]}"; do
    binary=${binaries[$i]}
    echo "== valgrind --leak-check=${leak_checks[$i]} $(basename "$binary")"
    (cd "${package_dirs[$i]}" &&
        valgrind --quiet --error-exitcode=1 --leak-check="${leak_checks[$i]}" \
            --errors-for-leak-kinds=definite,possible --suppressions="$suppressions" \
            "$binary" "${test_args[@]}")
done
