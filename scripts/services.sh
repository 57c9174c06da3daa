# Sourced by scripts/test.sh and bench/run.sh: starts or reuses what the tests and the
# benchmark talk to (PostgreSQL, NATS with JetStream, the secantusdb MongoDB wire-protocol
# server from a virtualenv), exports TEST_POSTGRES_URL, TEST_NATS_URL and TEST_MONGODB_URL,
# fails loudly when one cannot be reached, and stops on exit whatever it started.
# shellcheck shell=bash

CACHE="${COMMERCE_CACHE:-$HOME/.cache/commerce}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
MONGO_PORT="${TEST_MONGODB_PORT:-27018}"
SECANTUS_VERSION="${SECANTUS_VERSION:-0.7.0b3}"
mkdir -p "$CACHE"

say() { printf '\033[1m== %s\033[0m\n' "$*"; }
fail() { printf 'setup failed: %s\n' "$*" >&2; exit 1; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # port seconds name
  for _ in $(seq 1 $(( $2 * 5 ))); do listening "$1" && return 0; sleep 0.2; done
  fail "$3 is not listening on 127.0.0.1:$1"
}

started=()
cleanup() { for pid in "${started[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

say "PostgreSQL"
if ! listening 5432; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
  fi
fi
wait_port 5432 20 PostgreSQL
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

say "NATS JetStream"
if ! listening 4222; then
  command -v nats-server >/dev/null || fail "nats-server is not installed (apt-get install nats-server)"
  if command -v start-stop-daemon >/dev/null && [ -w /var/lib ]; then
    mkdir -p /var/lib/nats-server
    start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server)" -- \
      -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  else
    nats-server -a 127.0.0.1 -p 4222 -js -sd "$CACHE/nats" >"$CACHE/nats.log" 2>&1 &
    started+=("$!")
  fi
fi
wait_port 4222 20 NATS
export TEST_NATS_URL="${TEST_NATS_URL:-nats://127.0.0.1:4222}"

say "MongoDB wire-protocol server (secantusdb $SECANTUS_VERSION)"
VENV="$CACHE/venv"
if ! "$VENV/bin/python" -c 'import secantus' 2>/dev/null; then
  python3 -m venv "$VENV" || fail "python3 -m venv failed"
  "$VENV/bin/pip" install --quiet "secantusdb==$SECANTUS_VERSION" || fail "pip install secantusdb failed"
fi
if ! listening "$MONGO_PORT"; then
  "$VENV/bin/python" -m secantus --host 127.0.0.1 --port "$MONGO_PORT" --storage-path :memory: \
    >"$CACHE/secantus.log" 2>&1 &
  started+=("$!")
fi
wait_port "$MONGO_PORT" 30 "secantusdb"
export TEST_MONGODB_URL="${TEST_MONGODB_URL:-mongodb://127.0.0.1:$MONGO_PORT/?directConnection=true}"
# Tests that need a secantusdb of their own (with authentication) start it with this Python.
export TEST_SECANTUS_PYTHON="${TEST_SECANTUS_PYTHON:-$VENV/bin/python}"

