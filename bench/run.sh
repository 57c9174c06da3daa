#!/usr/bin/env bash
# The system benchmark: builds the services in release mode, starts or reuses PostgreSQL,
# NATS JetStream and a MongoDB wire-protocol server, runs every service in its own process
# on them, loads demo data and prints the table (see bench/src/lib.rs). Options go to the
# benchmark (`bench/run.sh --help`); the defaults finish in about five minutes once the
# release build exists. Nothing it starts outlives it.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  -h|--help)
    echo "usage: bench/run.sh [--duration SECS] [--warmup SECS] [--concurrency N] [--soak SECS] [--burst N] [--products N] [--orders N]"
    exit 0 ;;
esac

source scripts/services.sh

say "wrk (the load generator)"
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; } \
      || fail "cannot install wrk"
  else
    fail "wrk is not installed (apt-get install wrk)"
  fi
fi

say "release build"
build_started=$SECONDS
cargo build --release --locked -p router -p products -p users -p orders -p payments -p bench
build_seconds=$(( SECONDS - build_started ))

say "benchmark"
bench_started=$SECONDS
"$CARGO_TARGET_DIR/release/bench" \
  --bin-dir "$CARGO_TARGET_DIR/release" --supergraph schema/supergraph.graphql "$@"
echo "release build ${build_seconds} s, benchmark $(( SECONDS - bench_started )) s"
