#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on loopback for the tests and print its SQLAlchemy URL.
# `start_postgres.sh stop` stops it. Uses Debian's postgresql binaries; runs the server as `postgres`.
set -euo pipefail
dir=/tmp/hfcourse-pg
port=54329
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
if [ "${1:-}" = stop ]; then as_pg "$bin/pg_ctl -D $dir stop -m fast" >/dev/null; exit 0; fi
if [ ! -f "$dir/PG_VERSION" ]; then
  rm -rf "$dir"; mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_pg "$bin/initdb -D $dir -U postgres --auth=trust -E UTF8" >/dev/null
fi
if ! as_pg "$bin/pg_ctl -D $dir status" >/dev/null 2>&1; then
  as_pg "$bin/pg_ctl -D $dir -l $dir/server.log -o '-p $port -k /tmp -c listen_addresses=127.0.0.1' -w start" >/dev/null
fi
as_pg "$bin/psql -h 127.0.0.1 -p $port -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname='hfcourse_test'\"" | grep -q 1 \
  || as_pg "$bin/createdb -h 127.0.0.1 -p $port -U postgres hfcourse_test"
echo "postgresql+psycopg://postgres@127.0.0.1:$port/hfcourse_test"
