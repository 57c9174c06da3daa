#!/usr/bin/env bash
# Runs the whole test suite against real services: PostgreSQL, NATS with JetStream, a
# MongoDB wire-protocol server (secantusdb, from PyPI) and Node for the composition
# comparison. It starts what is not running, fails loudly when something cannot be
# reached, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/services.sh

if [ -f router/composition/tests/guild/package.json ]; then
  say "Node packages for the composition comparison"
  command -v npm >/dev/null || fail "node and npm are required"
  (cd router/composition/tests/guild && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
fi

say "cargo tests"
if ! command -v cargo-nextest >/dev/null; then
  cargo install --locked cargo-nextest || fail "cannot install cargo-nextest"
fi
cargo nextest run --workspace --no-fail-fast "$@"
