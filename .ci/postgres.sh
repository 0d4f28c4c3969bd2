#!/usr/bin/env bash
# Make a throwaway PostgreSQL listen on 127.0.0.1 only, and write its URL to .ci/postgres.env.
set -euo pipefail
cd "$(dirname "$0")/.."
port=55432
datadir=/tmp/digpy-ci-pg
if ! command -v pg_ctl >/dev/null 2>&1; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$bindir" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  export PATH="$bindir:$PATH"
fi
run_as=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd -r -M postgres
  run_as=(runuser -u postgres --)
fi
if ! "${run_as[@]}" pg_ctl -D "$datadir" status >/dev/null 2>&1; then
  rm -rf "$datadir"
  mkdir -p "$datadir"
  [ "$(id -u)" = 0 ] && chown postgres "$datadir"
  "${run_as[@]}" initdb -D "$datadir" -U digpy --auth=trust >/dev/null
  "${run_as[@]}" pg_ctl -D "$datadir" -l "$datadir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k /tmp" start >/dev/null
fi
python3 -m pip install -q 'psycopg[binary]>=3.1'
psql -h 127.0.0.1 -p $port -U digpy -d postgres -tc \
  "SELECT 1 FROM pg_database WHERE datname='digpy_test'" | grep -q 1 \
  || psql -h 127.0.0.1 -p $port -U digpy -d postgres -c "CREATE DATABASE digpy_test" >/dev/null
echo "DIGPY_TEST_POSTGRES_URL=postgresql+psycopg://digpy@127.0.0.1:$port/digpy_test" > .ci/postgres.env
echo "postgres: ready on 127.0.0.1:$port"
