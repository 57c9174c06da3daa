#!/usr/bin/env bash
# Installs GraphiQL and React from the npm registry and copies their browser bundles into
# router/graphiql/assets, which the router serves so GraphiQL works without internet.
# The folder is ignored by git; run this once per checkout (needs node and npm).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$here/.npm"
assets="$here/assets"

GRAPHIQL_VERSION="${GRAPHIQL_VERSION:-3.9.0}"
REACT_VERSION="${REACT_VERSION:-18.3.1}"

mkdir -p "$work" "$assets"
cd "$work"
[ -f package.json ] || echo '{"private": true}' > package.json
npm install --no-audit --no-fund --silent \
  "graphiql@$GRAPHIQL_VERSION" "react@$REACT_VERSION" "react-dom@$REACT_VERSION"

cp node_modules/react/umd/react.production.min.js "$assets/"
cp node_modules/react-dom/umd/react-dom.production.min.js "$assets/"
cp node_modules/graphiql/graphiql.min.js "$assets/"
cp node_modules/graphiql/graphiql.min.css "$assets/"
echo "GraphiQL $GRAPHIQL_VERSION assets installed in $assets"
