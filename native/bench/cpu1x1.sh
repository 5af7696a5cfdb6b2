#!/usr/bin/env bash
# Server CPU per message at one connection x one message in flight (64 B),
# finer than bench.sh's (which reads /proc's 10 ms ticks over a 20,000
# message run, about 0.25 s of CPU): the nanoseconds the kernel's scheduler
# accounted to every thread of the server (/proc/PID/task/*/schedstat),
# user and system time together, over N messages after a 2,000 message
# warm-up. One server process per call; interleave calls for comparisons.
#
#   native/bench/cpu1x1.sh ws|lines NAME N SERVER-COMMAND...
#
# PORT in the command is replaced by a free port. Examples:
#   WSPATH=/ws native/bench/cpu1x1.sh ws twine 30000 target/release/twine serve --http 127.0.0.1:PORT --tcp off --log warn
#   WSPATH=/ native/bench/cpu1x1.sh ws fastwebsockets 30000 /tmp/peers/target/release/fastwebsockets_echo PORT
#   native/bench/cpu1x1.sh lines tokio 30000 /tmp/peers/target/release/lines_echo PORT
# Prints: NAME msgs= rate= (msgs/s) p99= (us) cpu_ns_per_msg= user_ticks= sys_ticks=
# Needs ../shared/bench's loadgen (built by its setup.sh into /tmp/peers).
set -uo pipefail
KIND=$1 NAME=$2 N=$3; shift 3
P=/tmp/peers/target/release
port=$((20000 + RANDOM % 20000))
cmd=("${@//PORT/$port}")
"${cmd[@]}" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ -n "$(ss -Hltn "sport = :$port")" ] && break; sleep 0.1; done
if [ $KIND = ws ]; then base=(ws --url "ws://127.0.0.1:$port${WSPATH:-/}"); else base=(lines --addr 127.0.0.1:$port); fi
a=(--conns 1 --inflight 1 --size 64)
$P/loadgen "${base[@]}" "${a[@]}" --msgs-per-conn 2000 >/dev/null 2>&1
cpu() { awk '{s += $1} END {printf "%.0f\n", s}' /proc/$pid/task/*/schedstat; }
ticks() { for t in /proc/$pid/task/*/stat; do sed 's/^.*) //' $t; done | awk '{u += $12; s += $13} END {print u, s}'; }
c0=$(cpu); read -r u0 s0 <<<"$(ticks)"
json=$($P/loadgen "${base[@]}" "${a[@]}" --msgs-per-conn "$N" 2>/dev/null)
c1=$(cpu); read -r u1 s1 <<<"$(ticks)"
kill -TERM $pid; wait $pid 2>/dev/null
field() { grep -o "\"$1\":[0-9.]*" <<<"$json" | head -1 | cut -d: -f2; }
echo "$NAME msgs=$(field msgs) rate=$(field msgs_per_s) p99=$(field p99_us) cpu_ns_per_msg=$(((c1 - c0) / N)) user_ticks=$((u1 - u0)) sys_ticks=$((s1 - s0))"
