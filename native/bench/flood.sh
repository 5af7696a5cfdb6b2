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
# One row per server and round: baseline p99, flooded p99, their ratio, and
# the flood's own rate (a server that starves the flood is not fair either).
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

# measure NAME KIND TARGET...: KIND is ws or lines, TARGET loadgen's --url/--addr.
measure() {
  local name=$1 kind=$2; shift 2
  local good="$LOADGEN $kind $* --msgs-per-conn 2000 --timeout-secs 30"
  local base flooded flood_out
  base=$($good | p99)
  flood_out=$(mktemp)
  $LOADGEN "$kind" "$@" --conns "$FLOODERS" --inflight 64 --msgs-per-conn 5000000 --timeout-secs 8 \
    >"$flood_out" 2>/dev/null &
  local flood_pid=$!
  sleep 1
  flooded=$($good | p99)
  wait "$flood_pid" || true
  printf '%-36s baseline p99 %6d us  flooded p99 %7d us  ratio %6.2fx  flood %7s msgs/s\n' \
    "$name" "$base" "$flooded" "$(echo "$flooded / $base" | bc -l)" "$(rate <"$flood_out")"
  rm -f "$flood_out"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round: $(uptime)"
  out=$(mktemp)
  # shellcheck disable=SC2086
  "$TWINE" serve --tcp 127.0.0.1:0 --http 127.0.0.1:0 --log warn ${TWINE_ARGS:-} >"$out" &
  pid=$!
  for _ in $(seq 50); do grep -q 'http gateway' "$out" && break; sleep 0.1; done
  http=$(sed -n 's|^http gateway listening on http://||p' "$out")
  tcp=$(sed -n 's/^tcp line echo listening on //p' "$out")
  measure "twine-ws${TWINE_ARGS:+ $TWINE_ARGS}" ws --url "ws://$http/ws"
  measure "twine-lines${TWINE_ARGS:+ $TWINE_ARGS}" lines --addr "$tcp"
  kill -TERM "$pid"; wait "$pid" || true; rm -f "$out"
  for peer in ${PEERS-tungstenite tokio-lines}; do
    port=$(free_port)
    "$SHARED/peer.sh" "$peer" "$port" 2>/dev/null &
    ppid=$!
    sleep 0.5
    # shellcheck disable=SC2046
    measure "$peer" $( [ "$peer" = tungstenite ] && echo ws || echo lines ) $("$SHARED/peer.sh" target "$peer" "$port")
    kill -TERM "$ppid"; wait "$ppid" 2>/dev/null || true
  done
done
