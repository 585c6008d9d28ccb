#!/usr/bin/env bash
# Runtimes on pollio: the echo servers of examples/ side by side, under the same load.
#
# Builds the examples in release, then runs each server with the load generator they share
# (examples/common/load.rs: one client thread in the same process, 64-byte requests, one in
# flight per connection, every echo checked):
#
#   echo                  a single-threaded, level-triggered event loop          (1 thread)
#   async_echo            a single-threaded async executor, oneshot arming       (1 thread)
#   mt_echo per-thread    a poller per thread, the listener exclusive in each    (each of THREADS)
#   mt_echo shared        one poller that every thread waits on, oneshot         (each of THREADS)
#
# Every round runs each configuration once, each round starting one configuration later than
# the one before, so that a slow spell of a shared machine does not always fall on the same
# server. At the end it prints a markdown table: per configuration the median over rounds of
# requests/s (with its min-max), of the p99 round trip, of the server threads' CPU time per
# request, and of the time the server's threads (summed) and the client thread were ready to
# run but waited for a CPU, in percent of the run (the last three from Linux's schedstat); and
# for the mt shapes the median of the per-round ratio of requests/s to the same shape at the
# first of THREADS (1 by default) in the same round. Progress goes to stderr, the table to
# stdout. A run that fails (a wrong echo, a stuck server) stops the script with its output.
#
# Environment (defaults in brackets):
#   CLIENTS      connections per run [64]
#   RUN_SECONDS  measured seconds per run [5]
#   ROUNDS       rounds [7]
#   THREADS      mt_echo thread counts, the first one the base of the ratio ["1 2"]
#   RAW          a file to which every run's numbers are also written (TSV) [none]
#
# Usage:
#   bench/runtime.sh                                   # about 4 minutes with the defaults
#   CLIENTS=16 RUN_SECONDS=1 ROUNDS=1 bench/runtime.sh # a quick check
#
# On a bigger machine, with more threads:
#   THREADS="1 2 4 8" CLIENTS=256 bench/runtime.sh
# The load generator is one thread of the same process and needs a core of its own: server
# threads beyond (cores - 1) measure the load generator, not the server. More threads also
# need more connections to keep them busy (each connection has one request in flight).
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=${CLIENTS:-64}
RUN_SECONDS=${RUN_SECONDS:-5}
ROUNDS=${ROUNDS:-7}
THREADS=${THREADS:-"1 2"}
read -r -a thread_counts <<<"$THREADS"
base=${thread_counts[0]}
if [ "$base" = 1 ]; then base_label="1 thread"; else base_label="$base threads"; fi

cargo build --release --quiet --example echo --example async_echo --example mt_echo
bin="${CARGO_TARGET_DIR:-target}/release/examples"

# name|threads|command
configs=("echo|1|echo" "async_echo|1|async_echo")
for t in "${thread_counts[@]}"; do
    configs+=("mt_echo per-thread|$t|mt_echo --shape per-thread --threads $t")
    configs+=("mt_echo shared|$t|mt_echo --shape shared --threads $t")
done

results=$(mktemp)
trap 'rm -f "$results"' EXIT

# The value of `name=value` in the run's result line, or "n/a".
field() {
    local value
    value=$(grep -oE "(^| )$1=[0-9.]+" <<<"$line" | cut -d= -f2)
    echo "${value:-n/a}"
}

count=${#configs[@]}
for ((round = 1; round <= ROUNDS; round++)); do
    for ((i = 0; i < count; i++)); do
        IFS='|' read -r name threads command <<<"${configs[$(((i + round - 1) % count))]}"
        read -r -a args <<<"$command"
        if ! out=$("$bin/${args[0]}" "${args[@]:1}" --clients "$CLIENTS" --seconds "$RUN_SECONDS" 2>&1); then
            printf '%s\n' "$out" >&2
            echo "runtime.sh: $name with $threads thread(s) failed" >&2
            exit 1
        fi
        line=$(grep '^result:' <<<"$out")
        rps=$(field requests_per_sec)
        p99=$(field p99_us)
        cpu=$(field server_cpu_us_per_request)
        server_wait=$(field server_cpu_wait_pct)
        client_wait=$(field client_cpu_wait_pct)
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$threads" "$rps" "$p99" \
            "$cpu" "$server_wait" "$client_wait" >>"$results"
        echo "round $round/$ROUNDS: $name, $threads thread(s): $rps requests/s, p99 $p99 µs," \
            "server CPU $cpu µs/request, waiting for a CPU: server $server_wait%, client $client_wait%" >&2
    done
done
if [ -n "${RAW:-}" ]; then
    {
        printf 'round\tserver\tthreads\trequests_per_sec\tp99_us\tserver_cpu_us_per_request'
        printf '\tserver_cpu_wait_pct\tclient_cpu_wait_pct\n'
        cat "$results"
    } >"$RAW"
fi

# The median of the numbers on stdin, one per line ("n/a" if there are none).
median() {
    grep -E '^[0-9.]+$' | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# A number with $2 decimals, or "n/a" as it is.
number() {
    if [ "$1" = n/a ]; then echo n/a; else printf "%.${2}f" "$1"; fi
}

# Column $3 (4: requests/s, 5: p99, 6: server CPU, 7 and 8: server's and client's wait for a
# CPU) of the runs of server $1 with $2 threads.
values() {
    awk -F'\t' -v name="$1" -v threads="$2" -v col="$3" '$2 == name && $3 == threads { print $col }' "$results"
}

# Per round, requests/s of server $1 at $2 threads divided by the same at the base count.
ratios() {
    awk -F'\t' -v name="$1" -v threads="$2" -v base="$base" '
        $2 == name && $3 == threads { top[$1] = $4 }
        $2 == name && $3 == base { bottom[$1] = $4 }
        END { for (r in top) if (r in bottom && bottom[r] > 0) print top[r] / bottom[r] }' "$results"
}

echo
echo "$CLIENTS connections, $RUN_SECONDS s per run, $ROUNDS rounds; $(nproc) CPUs, Linux $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end."
echo
echo "| server | threads | requests/s (median) | min–max | p99 µs (median) | server CPU µs per request (median) | waiting for a CPU, % of the run: server / client (median) | requests/s ÷ $base_label, median of rounds |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|"
rows=("echo|1" "async_echo|1")
for shape in per-thread shared; do
    for t in "${thread_counts[@]}"; do
        rows+=("mt_echo $shape|$t")
    done
done
for row in "${rows[@]}"; do
    IFS='|' read -r name threads <<<"$row"
    rps=$(values "$name" "$threads" 4 | median)
    low=$(values "$name" "$threads" 4 | sort -g | head -n1)
    high=$(values "$name" "$threads" 4 | sort -g | tail -n1)
    p99=$(values "$name" "$threads" 5 | median)
    cpu=$(values "$name" "$threads" 6 | median)
    server_wait=$(values "$name" "$threads" 7 | median)
    client_wait=$(values "$name" "$threads" 8 | median)
    ratio="–"
    if [[ $name == mt_echo* && $threads != "$base" ]]; then
        ratio=$(number "$(ratios "$name" "$threads" | median)" 2)
    fi
    printf '| %s | %s | %.0f | %.0f–%.0f | %.0f | %s | %s / %s | %s |\n' "$name" "$threads" "$rps" \
        "$low" "$high" "$p99" "$(number "$cpu" 2)" "$(number "$server_wait" 0)" \
        "$(number "$client_wait" 0)" "$ratio"
done
