#!/usr/bin/env bash
# Exact per-operation counts for the source workloads of benches/sources.rs, pollio against the
# hand-written timerfd / signalfd loop, as bench/counts.sh does for the paired runner:
# user-space instructions inside `measured_op` (callgrind --toggle-collect) and system calls
# (strace -f -c), each (count for N2 ops - count for N1 ops) / (N2 - N1), so setup cancels out.
# Then the timer design measurement: 10,000 timers created, armed, re-armed and cancelled, a
# timerfd each (pollio) against one timerfd under a heap, with the system calls each made.
#
# Usage: bench/sources.sh     (needs valgrind and strace; Linux only)
set -euo pipefail
cd "$(dirname "$0")"

bin=$(cargo bench -p pollio-bench --bench sources --no-run --message-format=json 2>/dev/null |
    grep -o '"executable":"[^"]*"' | sed 's/"executable":"//; s/"$//' | grep '/sources-' | tail -1)
[[ -x "$bin" ]] || { echo "could not find the sources bench executable" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

instructions() {
    valgrind --tool=callgrind --toggle-collect='*measured_op*' \
        --callgrind-out-file="$tmp/cg.out" "$bin" "$@" >/dev/null 2>&1
    awk '/^totals:/ { print $2 }' "$tmp/cg.out"
}

syscalls() {
    strace -f -c -o "$tmp/strace.out" "$bin" "$@" >/dev/null 2>&1
    awk '$1 ~ /^[0-9.]+$/ && $NF != "total" { print $NF, $4 }' "$tmp/strace.out" | sort
}

per_op() {  # $1 $2: files of "name count"; $3: ops between them
    join -a 2 -e 0 -o 0,1.2,2.2 "$1" "$2" |
        awk -v s="$3" '{ d = ($3 - $2) / s; t += d
                         if (d >= 0.005) { printf "%s%s %.2f", sep, $1, d; sep = ", " } }
                       END { printf " | %.2f", t }'
}

n1=1000 n2=2000
echo "| workload | implementation | instructions per op | syscalls per op, by call | syscalls per op |"
echo "|---|---|--:|---|--:|"
for workload in timer-arm-cancel timer-fire signal; do
    for imp in raw pollio; do
        i1=$(instructions --count "$workload" "$imp" "$n1")
        i2=$(instructions --count "$workload" "$imp" "$n2")
        syscalls --count "$workload" "$imp" "$n1" >"$tmp/s1"
        syscalls --count "$workload" "$imp" "$n2" >"$tmp/s2"
        ins=$(awk -v a="$i1" -v b="$i2" -v s=$((n2 - n1)) 'BEGIN { printf "%.1f", (b - a) / s }')
        echo "| $workload | $imp | $ins | $(per_op "$tmp/s1" "$tmp/s2" $((n2 - n1))) |"
    done
done

echo
echo "10,000 timers created, armed, re-armed, cancelled (and, per-fd, dropped): system calls in all"
for design in per-fd heap; do
    syscalls --design "$design" 10000 >"$tmp/d"
    echo "$design: $(awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }' "$tmp/d")"
done
for design in per-fd heap; do
    "$bin" --design "$design" 10000
done
