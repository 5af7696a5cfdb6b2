#!/usr/bin/env bash
# Flood fairness: a good client's echo p99 alone, then beside FLOODERS
# connections that keep 64 messages in flight each, in the same run, for
# twine and for the peers of ../shared/bench (tokio-tungstenite for
# WebSockets, tokio LinesCodec for lines). A benchmark, not a test: the
# figures depend on the machine (the load generator shares its cores).
#
#   native/bench/flood.sh [ROUNDS]        (default 3; env FLOODERS=8, TWINE=path,
#                                          TWINE_ARGS="--messages-per-turn 4", PEERS="tungstenite tokio-lines")
#
# One row per server and round: baseline p99; flooded p99 and its ratio; the
# control, the p99 while the same flood goes to a second instance of the same
# server (what the machine costs the good client, not the server's sharing),
# and its ratio; the flood's own rate (a server that starves the flood is not
# fair either).
# The goal (issue 17): flooded p99 <= 1.5x baseline.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PEERS_OUT=${PEERS_OUT:-/tmp/peers}
SHARED=${SHARED:-$ROOT/../shared/bench}
LOADGEN=$PEERS_OUT/target/release/loadgen
ROUNDS=${1:-3}
FLOODERS=${FLOODERS:-8}
if [ -z "${TWINE:-}" ]; then
  cargo build --release -p twine-native --bin twine --manifest-path "$ROOT/Cargo.toml"
  TWINE=$ROOT/target/release/twine
fi
[ -x "$LOADGEN" ] || "$SHARED/setup.sh"

p99() { grep -o '"p99_us":[0-9]*' | cut -d: -f2; }
rate() { grep -o '"msgs_per_s":[0-9]*' | cut -d: -f2; }

# measure NAME KIND TARGET ELSEWHERE: KIND is ws or lines; TARGET and ELSEWHERE
# are loadgen's --url/--addr for the server under test and for a second,
# separate instance of the same server. The good client always talks to
# TARGET; the flood goes to TARGET, then (the control) to ELSEWHERE: what the
# good client loses then is the machine's (CPU taken by the flood and its
# load generator), not the server's sharing.
measure() {
  local name=$1 kind=$2 target=$3 elsewhere=$4
  # shellcheck disable=SC2086
  local good="$LOADGEN $kind $target --msgs-per-conn 2000 --timeout-secs 30"
  local base flooded control flood_out
  base=$($good | p99)
  flood_out=$(mktemp)
  flooded=$(flood_beside "$kind" "$target" "$good" "$flood_out")
  control=$(flood_beside "$kind" "$elsewhere" "$good" /dev/null)
  printf '%-36s baseline p99 %6d us  flooded p99 %7d us  ratio %6.2fx  flood elsewhere p99 %7d us  ratio %6.2fx  flood %7s msgs/s\n' \
    "$name" "$base" "$flooded" "$(echo "$flooded / $base" | bc -l)" "$control" "$(echo "$control / $base" | bc -l)" "$(rate <"$flood_out")"
  rm -f "$flood_out"
}

# flood_beside KIND FLOOD_TARGET GOOD_CMD OUT: the good client's p99 while
# FLOODERS connections flood FLOOD_TARGET (the flood's report into OUT).
flood_beside() {
  local kind=$1 flood_target=$2 good=$3 out=$4
  # shellcheck disable=SC2086
  $LOADGEN "$kind" $flood_target --conns "$FLOODERS" --inflight 64 --msgs-per-conn 5000000 --timeout-secs 8 \
    >"$out" 2>/dev/null &
  local flood_pid=$!
  sleep 1
  $good | p99
  wait "$flood_pid" || true
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_twine OUT: a `twine serve` on free ports, its output into OUT; prints its PID.
start_twine() {
  # shellcheck disable=SC2086
  "$TWINE" serve --tcp 127.0.0.1:0 --http 127.0.0.1:0 --log warn ${TWINE_ARGS:-} >"$1" &
  echo $!
  for _ in $(seq 50); do grep -q 'http gateway' "$1" && break; sleep 0.1; done
}
http_of() { sed -n 's|^http gateway listening on http://||p' "$1"; }
tcp_of() { sed -n 's/^tcp line echo listening on //p' "$1"; }

for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round: $(uptime)"
  out=$(mktemp); other=$(mktemp)
  pid=$(start_twine "$out"); other_pid=$(start_twine "$other")
  measure "twine-ws${TWINE_ARGS:+ $TWINE_ARGS}" ws "--url ws://$(http_of "$out")/ws" "--url ws://$(http_of "$other")/ws"
  measure "twine-lines${TWINE_ARGS:+ $TWINE_ARGS}" lines "--addr $(tcp_of "$out")" "--addr $(tcp_of "$other")"
  kill -TERM "$pid" "$other_pid"
  while kill -0 "$pid" 2>/dev/null || kill -0 "$other_pid" 2>/dev/null; do sleep 0.1; done  # not our children: no wait
  rm -f "$out" "$other"
  for peer in ${PEERS-tungstenite tokio-lines}; do
    port=$(free_port); other_port=$(free_port)
    "$SHARED/peer.sh" "$peer" "$port" 2>/dev/null &
    ppid=$!
    "$SHARED/peer.sh" "$peer" "$other_port" 2>/dev/null &
    other_ppid=$!
    sleep 0.5
    measure "$peer" "$( [ "$peer" = tungstenite ] && echo ws || echo lines )" \
      "$("$SHARED/peer.sh" target "$peer" "$port")" "$("$SHARED/peer.sh" target "$peer" "$other_port")"
    kill -TERM "$ppid" "$other_ppid"; wait "$ppid" "$other_ppid" 2>/dev/null || true
  done
done
