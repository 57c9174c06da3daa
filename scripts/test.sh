#!/usr/bin/env bash
# Checks formatting (`cargo fmt --check`) and lints (clippy, every warning an error), then
# runs the whole test suite against real services: PostgreSQL, NATS with JetStream, a
# MongoDB wire-protocol server (secantusdb, from PyPI), Node (the composition comparison
# and the frontend client tests) and Debian's Chromium (GraphiQL in a headless browser).
# It starts or installs what is missing, fails loudly when something cannot be had, and
# stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/services.sh

# Formatting and lints come first: a tree that fails them is not worth testing.
check_failed() { printf '\ncheck failed: %s\n' "$*" >&2; exit 1; }
say "Formatting: cargo fmt --all --check"
cargo fmt --version >/dev/null 2>&1 || fail "rustfmt is missing (rustup component add rustfmt)"
cargo fmt --all --check \
  || check_failed "the code above is not formatted as rustfmt.toml says; run \`cargo fmt --all\` and commit the result"
say "Lints: cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --version >/dev/null 2>&1 || fail "clippy is missing (rustup component add clippy)"
cargo clippy --workspace --all-targets -- -D warnings \
  || check_failed "clippy reported the problems above (the rules are [workspace.lints] in Cargo.toml); fix them and run the tests again"

if [ -f router/composition/tests/guild/package.json ]; then
  say "Node packages for the composition comparison"
  command -v npm >/dev/null || fail "node and npm are required"
  (cd router/composition/tests/guild && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
fi

say "Node packages and Chromium for the client tests"
command -v npm >/dev/null || fail "node and npm are required"
(cd router/tests/clients && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) \
  || fail "npm ci in router/tests/clients failed"
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then apt_get=(apt-get); else apt_get=(sudo -n apt-get); fi
  { "${apt_get[@]}" update && "${apt_get[@]}" install -y chromium; } \
    || fail "/usr/bin/chromium is missing and Debian's chromium package could not be installed"
fi
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is still missing"
if [ ! -f router/graphiql/assets/graphiql.min.js ]; then
  router/graphiql/install.sh || fail "cannot install GraphiQL's assets (router/graphiql/install.sh)"
fi

say "cargo tests"
if ! command -v cargo-nextest >/dev/null; then
  cargo install --locked cargo-nextest || fail "cannot install cargo-nextest"
fi
cargo nextest run --workspace --no-fail-fast "$@"
