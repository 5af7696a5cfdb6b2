#!/usr/bin/env bash
# WebSocket echo benchmark: twine's gateway (/ws) against the tungstenite,
# axum-forward, node-ws and autobahn peers of ../shared/bench, interleaved,
# ROUNDS rounds (default 3). A benchmark, not a test.
#
#   native/bench/ws.sh [ROUNDS] [--probe]
#
# Environment: TWINE=path (a prebuilt binary instead of building one),
# TWINE_ARGS="--reactors 1" (extra serve flags), PEERS="tungstenite ...".
#
# Each round: start the release `twine serve --http` on a free port, run
# bench.sh's three loads against it with its PID (server CPU per message and
# RSS), stop it with SIGTERM; then bench.sh for each peer. With --probe, one
# last run holds 19,500 idle WebSockets on twine (bench.sh --probe-conns). Every client is on 127.0.0.1, so the per-address cap is off here.
# Rows also go to /tmp/peers/results/*.jsonl.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=${BENCH:-$ROOT/../shared/bench/bench.sh}
ROUNDS=${1:-3}
PROBE=${2:-}
PEERS=${PEERS:-tungstenite fastwebsockets axum-forward node-ws autobahn}
TWINE_ARGS=${TWINE_ARGS:-}
if [ -z "${TWINE:-}" ]; then
  cargo build --release -p twine-native --bin twine --manifest-path "$ROOT/Cargo.toml"
  TWINE=$ROOT/target/release/twine
fi

twine_run() { # extra bench.sh args...
  local out pid url
  out=$(mktemp)
  # shellcheck disable=SC2086
  "$TWINE" serve --tcp 127.0.0.1:0 --http 127.0.0.1:0 --max-connections 20000 --max-http-connections 20000 --max-connections-per-ip 0 --log warn $TWINE_ARGS >"$out" &
  pid=$!
  for _ in $(seq 50); do grep -q "http gateway" "$out" && break; sleep 0.1; done
  url=$(sed -n 's|^http gateway listening on http://|ws://|p' "$out")/ws
  "$BENCH" --url "$url" --pid "$pid" "$@" | grep -E '^(peer|ws-|idle)' | sed 's/^ws-[^ ]*/twine      /'
  kill -TERM "$pid"; wait "$pid" || true; rm -f "$out"
}

for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round: $(uptime)"
  twine_run
  for peer in $PEERS; do
    "$BENCH" "$peer" | grep -E "^$peer "
  done
done
if [ "$PROBE" = "--probe" ]; then
  echo "== idle probe: $(uptime)"
  twine_run --skip-loads --probe-conns 19500
fi
