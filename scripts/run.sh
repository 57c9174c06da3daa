#!/usr/bin/env bash
# Runs the whole system in one process: the router with GraphiQL on :4000 and the four
# subgraphs, embedded unless DATABASE_URLs, MONGODB_URL, NATS_URL or Stripe keys are set.
# Arguments go to the launcher (`--demo` loads demo accounts and a catalog).
set -euo pipefail
cd "$(dirname "$0")/.."

# GraphiQL's browser bundles come from npm once, so the page works without internet later.
if [ ! -f router/graphiql/assets/graphiql.min.js ]; then
  if command -v npm >/dev/null; then
    router/graphiql/install.sh || echo "GraphiQL assets not installed; the page will load them from a CDN"
  else
    echo "npm not found; GraphiQL will load its assets from a CDN"
  fi
fi
exec cargo run -p stack --bin commerce -- "$@"
