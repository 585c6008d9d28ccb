#!/usr/bin/env bash
# Exact per-operation counts for every workload and implementation of the paired runner:
#   - user-space instructions inside the measured operation only: callgrind counts while the
#     program is inside `measured_op` (--toggle-collect), which runs one operation;
#   - system calls, from `strace -f -c` (all threads).
# Each figure is (count for N2 ops - count for N1 ops) / (N2 - N1), so setup and teardown,
# identical in both runs, cancel out. The figures are exact and repeat from run to run, except
# where threads race (echo: how many replies one wait collects varies with timing).
#
# What an op includes: ready-1k-edge's syscalls include the 1,000 writes that make the edges
# (outside the timing, and outside measured_op, so not in its instructions); wake-xthread's
# instructions are the timing thread's half (its wake and wait), its syscalls both threads';
# echo's syscalls are the server's and the client's per request.
#
# Usage: bench/counts.sh [WORKLOAD...]   (default: all workloads)
# Needs valgrind and strace (Debian/Ubuntu: apt-get install -y valgrind strace).
set -euo pipefail
cd "$(dirname "$0")"

missing=()
for tool in valgrind strace; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    echo "bench/counts.sh needs: ${missing[*]} (Debian/Ubuntu: apt-get install -y ${missing[*]})" >&2
    exit 1
fi

echo "building the runner (cargo bench -p pollio-bench --bench compare --no-run)..." >&2
bin=$(cargo bench -p pollio-bench --bench compare --no-run --message-format=json 2>/dev/null |
    grep -o '"executable":"[^"]*"' | sed 's/"executable":"//; s/"$//' | grep '/compare-' | tail -1)
[[ -x "$bin" ]] || { echo "could not find the compare bench executable" >&2; exit 1; }

# Operation counts (N1 N2) per workload: large enough to be exact, small enough for valgrind.
declare -A ops=(
    [wait0-empty]="1000 2000" [pingpong-1]="1000 2000" [pingpong-10k]="10000 20000"
    [ready-1k]="20 40" [ready-1k-edge]="10 20" [churn]="1000 2000" [rearm]="1000 2000"
    [wake]="1000 2000" [wake-xthread]="200 400" [timeout-100us]="100 200" [echo]="5000 20000"
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Instructions inside measured_op for N ops of workload $1, implementation $2; nothing if the
# program failed under valgrind.
instructions() {
    rm -f "$tmp/cg.out"
    valgrind --tool=callgrind --toggle-collect='*measured_op*' \
        --callgrind-out-file="$tmp/cg.out" "$bin" --count "$1" "$2" "$3" >/dev/null 2>&1 || return 0
    awk '/^totals:/ { print $2 }' "$tmp/cg.out"
}

# Valgrind before 3.21 does not know epoll_pwait2: under it the precise timed wait fails (raw
# epoll) or falls back to whole milliseconds (pollio), so its counts would describe another path.
if ! valgrind --tool=none "$bin" --count timeout-100us raw 1 >/dev/null 2>&1; then
    no_pwait2=1
fi

# "name count" lines of the system calls made by N ops of workload $1, implementation $2.
syscalls() {
    strace -f -c -o "$tmp/strace.out" "$bin" --count "$1" "$2" "$3" >/dev/null 2>&1
    awk '$1 ~ /^[0-9.]+$/ && $NF != "total" { print $NF, $4 }' "$tmp/strace.out" | sort
}

selected=("$@")
echo "| workload | implementation | instructions per op | syscalls per op | syscalls per op, by call |"
echo "|---|---|--:|--:|---|"
while read -r workload units keys; do
    if ((${#selected[@]})) && [[ ! " ${selected[*]} " == *" $workload "* ]]; then
        continue
    fi
    read -r n1 n2 <<<"${ops[$workload]}"
    span=$((n2 - n1))
    for key in ${keys//,/ }; do
        if [[ $workload == echo ]]; then
            per_op="n/a"  # the echo server runs outside measured_op, on its own thread
        elif [[ $workload == timeout-100us && -n ${no_pwait2:-} ]]; then
            per_op="n/a (valgrind lacks epoll_pwait2)"
        else
            i1=$(instructions "$workload" "$key" "$n1")
            i2=$(instructions "$workload" "$key" "$n2")
            per_op=$(awk -v a="$i1" -v b="$i2" -v s="$span" -v u="$units" \
                'BEGIN { if (a == "" || b == "") { print "failed under valgrind"; exit }
                         v = (b - a) / s
                         if (u > 1) printf "%.0f (%.2f per event)", v, v / u; else printf "%.1f", v }')
        fi
        syscalls "$workload" "$key" "$n1" >"$tmp/s1"
        syscalls "$workload" "$key" "$n2" >"$tmp/s2"
        by_call=$(join -a 2 -e 0 -o 0,1.2,2.2 "$tmp/s1" "$tmp/s2" |
            awk -v s="$span" '{ d = ($3 - $2) / s; if (d >= 0.005) { printf "%s%s %.2f", sep, $1, d; sep = ", " } }')
        total=$(join -a 2 -e 0 -o 0,1.2,2.2 "$tmp/s1" "$tmp/s2" |
            awk -v s="$span" '{ t += $3 - $2 } END { printf "%.2f", t / s }')
        echo "| $workload | $key | $per_op | $total | $by_call |"
    done
done < <("$bin" --list)
