#!/usr/bin/env bash
# Cost per echoed message, in counts that the machine's load does not move:
# user-space instructions (callgrind) or syscalls (strace) of one server
# process, per message, for bench.sh's three loads. See RESULTS-ws.md.
#
#   native/bench/cost.sh cg|st NAME ws|lines SERVER-COMMAND...
#
# PORT in the command is replaced by a free port. Examples:
#   WSPATH=/ws native/bench/cost.sh cg twine ws target/release/twine serve --http 127.0.0.1:PORT --tcp off --log warn
#   WSPATH=/ native/bench/cost.sh st tungstenite ws /tmp/peers/target/release/tungstenite_echo PORT
# Each load runs twice (N1 and N2 messages per connection, after a warm-up),
# counters zeroed before each; per message = (count at N2 - count at N1) /
# (messages at N2 - messages at N1), so start-up and connection set-up cancel.
# Prints: NAME LOAD N messages errors VALUE. Needs ../shared/bench's loadgen
# (built by its setup.sh into /tmp/peers), valgrind and strace.
set -uo pipefail
TOOL=$1 NAME=$2 KIND=$3; shift 3
P=/tmp/peers/target/release
OUT=${COST_OUT:-/tmp/twine-cost}; mkdir -p "$OUT"
port=$((20000 + RANDOM % 20000))
cmd=("${@//PORT/$port}")
if [ $KIND = ws ]; then base=(ws --url "ws://127.0.0.1:$port${WSPATH:-/}"); else base=(lines --addr 127.0.0.1:$port); fi
tag=$TOOL-$NAME
rm -f $OUT/$tag.cg*
if [ $TOOL = cg ]; then
  valgrind --tool=callgrind --callgrind-out-file=$OUT/$tag.cg "${cmd[@]}" >$OUT/$tag.log 2>&1 &
else
  "${cmd[@]}" >$OUT/$tag.log 2>&1 &
fi
pid=$!
for _ in $(seq 600); do [ -n "$(ss -Hltn "sport = :$port")" ] && break; sleep 0.1; done
load() { # name n
  case $1 in
    lat) a=(--conns 1 --inflight 1 --size 64) ;;
    thr) a=(--conns 64 --inflight 16 --size 64) ;;
    big) a=(--conns 64 --inflight 4 --size 16384); [ $KIND = ws ] && a+=(--binary) ;;
  esac
  timeout 300 $P/loadgen "${base[@]}" "${a[@]}" --msgs-per-conn $2 --timeout-secs 280 2>>$OUT/$tag.loadgen
}
# A number field of loadgen's JSON summary.
field() { grep -o "\"$1\":[0-9]*" <<<"$json" | head -1 | cut -d: -f2; }
dumps=0
for spec in ${LOADS:-lat:500:2000 thr:100:400 big:25:100}; do
  IFS=: read -r L N1 N2 <<<"$spec"
  load $L $N1 >/dev/null # warm-up: first connections, buffers grown
  for N in $N1 $N2; do
    if [ $TOOL = cg ]; then
      callgrind_control -z $pid >/dev/null
      json=$(load $L $N)
      callgrind_control -d $pid >/dev/null; dumps=$((dumps + 1))
      f=$(ls -t $OUT/$tag.cg.* 2>/dev/null | head -1)
      val=$(grep -h '^summary:\|^totals:' "$f" | head -1 | awk '{print $2}')
    else
      strace -f -c -o $OUT/$tag.st -p $pid 2>/dev/null &
      spid=$!; sleep 0.5
      json=$(load $L $N)
      kill -INT $spid; wait $spid 2>/dev/null
      val=$(awk '$NF!="total" && /^[ ]*[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ {t+=$4; printf "%s=%s,", $NF, $4} END {printf "total=%d", t}' $OUT/$tag.st)
    fi
    echo "$NAME $L $N $(field msgs) $(field errors) $val"
  done
done
kill -TERM $pid
for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.2; done
kill -0 $pid 2>/dev/null && kill -KILL $pid
wait $pid 2>/dev/null
