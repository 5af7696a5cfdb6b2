#!/usr/bin/env bash
# Line-echo benchmark: twine against the tokio-lines and twisted-lines peers of
# ../shared/bench, interleaved, ROUNDS rounds (default 5). A benchmark, not a test.
#
#   native/bench/lines.sh [ROUNDS]
#
# Environment: TWINE=path (a prebuilt binary instead of building one),
# PEERS="tokio-lines twisted-lines" (the peers to run).
#
# Each round: start the release `twine serve --tcp` on a free port (the
# gateway off: it would take 127.0.0.1:8080 and two more threads), run
# bench.sh's three loads against it with its PID (for server CPU and RSS),
# stop it with SIGTERM; then bench.sh tokio-lines and bench.sh twisted-lines.
# Rows also go to /tmp/peers/results/*.jsonl.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=${BENCH:-$ROOT/../shared/bench/bench.sh}
ROUNDS=${1:-5}
PEERS=${PEERS:-tokio-lines twisted-lines}
if [ -z "${TWINE:-}" ]; then
  cargo build --release -p twine-native --bin twine --manifest-path "$ROOT/Cargo.toml"
  TWINE=$ROOT/target/release/twine
fi
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round: $(uptime)"
  out=$(mktemp)
  "$TWINE" serve --tcp 127.0.0.1:0 --http off --log warn >"$out" &
  pid=$!
  for _ in $(seq 50); do grep -q listening "$out" && break; sleep 0.1; done
  addr=$(sed -n 's/^tcp line echo listening on //p' "$out")
  "$BENCH" --addr "$addr" --pid "$pid" | grep -E '^(peer|lines-)'
  kill -TERM "$pid"; wait "$pid"; rm -f "$out"
  for peer in $PEERS; do
    "$BENCH" "$peer" | grep -E "^$peer "
  done
done
