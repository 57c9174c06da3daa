#!/usr/bin/env bash
# Load benchmark of the router (not run in CI).
#
# Builds the router in release mode, then runs benches/load.rs, which starts the test
# subgraphs and the release router on loopback and prints requests/s, p50/p99 latency,
# errors, router CPU µs per request and router RSS for: a one-subgraph query (also sent
# straight to the subgraph), and a three-subgraph query, with deduplication on and off.
# Every load is bounded by a request count; the router child process is killed at the end.
#
# Usage: router/bench/load.sh [--requests N] [--concurrency N]
# PROFILE=dev runs the same thing on debug builds (a quick check of the script itself;
# its numbers mean nothing).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

profile="${PROFILE:-release}"
case "$profile" in
  release) bench_profile=bench; out=release ;;
  dev) bench_profile=dev; out=debug ;;
  *) echo "PROFILE must be release or dev" >&2; exit 2 ;;
esac

cargo build --profile "$profile" -p router --bin router
exec cargo bench --profile "$bench_profile" -p router --bench load -- \
  --router "$CARGO_TARGET_DIR/$out/router" "$@"
