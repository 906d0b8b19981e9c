#!/usr/bin/env bash
# Runs one bench/*.sh with deliveryhub on a throw-away PostgreSQL (scripts/local-postgres.sh on
# 127.0.0.1, stopped afterwards) and, in the same sitting on the same server, pgbench's built-in
# TPC-B-like script at the same number of connections as the database's ceiling. Round trips per
# order: the statements column of orders_post.sh's cost table (each statement, BEGIN and COMMIT
# included, is one round trip with libpqxx).
#
# Usage: bash bench/on_postgres.sh orders_post.sh|orders_get.sh [path/to/deliveryhub]
# Environment: PGBENCH_SECONDS=30 (0: no pgbench), PGBENCH_SCALE=10, and everything the
#   chosen script takes (CONNECTIONS as the script's default when unset; PIN_CPUS pins
#   PostgreSQL too).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
script=${1:?usage: bench/on_postgres.sh SCRIPT [path/to/deliveryhub]}
shift
[[ -f $here/$script && $script != on_postgres.sh ]] || { echo "on_postgres: no bench/$script" >&2; exit 2; }
PGBENCH_SECONDS=${PGBENCH_SECONDS:-30}
PGBENCH_SCALE=${PGBENCH_SCALE:-10}
case $script in orders_get.sh) pg_connections=${CONNECTIONS:-64} ;; *) pg_connections=${CONNECTIONS:-32} ;; esac
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[[ -x $PG_BIN/pgbench ]] || { echo "on_postgres: no pgbench (apt-get install postgresql)" >&2; exit 1; }

dir=$(mktemp -d /tmp/dh-bench-pg.XXXXXX)
chmod 755 "$dir"
trap '"$root/scripts/local-postgres.sh" stop "$dir"' EXIT
# PIN_CPUS (as for the bench scripts): PostgreSQL runs on the same CPUs as deliveryhub; pgbench
# and wrk do not.
pin=()
[[ -z ${PIN_CPUS:-} ]] || pin=(taskset -c "$PIN_CPUS")
admin=$("${pin[@]}" "$root/scripts/local-postgres.sh" start "$dir")
base=${admin%/postgres}
"$PG_BIN/psql" -q "$admin" -c 'CREATE DATABASE deliveryhub' -c 'CREATE DATABASE pgbench'
pg_version=$("$PG_BIN/postgres" --version | awk '{ print $NF }')

export DH_DATABASE="$base/deliveryhub"
export DB_LABEL="PostgreSQL $pg_version on 127.0.0.1 (scripts/local-postgres.sh: fsync on, shared_buffers 128MB), database \`deliveryhub\`"
if (( PGBENCH_SECONDS > 0 )); then
  echo "[bench] pgbench: scale $PGBENCH_SCALE, $pg_connections connections, ${PGBENCH_SECONDS}s" >&2
  "$PG_BIN/pgbench" -q -i -s "$PGBENCH_SCALE" "$base/pgbench" >/dev/null 2>&1
  tps=$("$PG_BIN/pgbench" -n -M prepared -c "$pg_connections" -j 2 -T "$PGBENCH_SECONDS" "$base/pgbench" 2>/dev/null \
    | awk '/^tps = / { printf "%.0f", $3 }')
  [[ -n $tps ]] || { echo "on_postgres: pgbench gave no result" >&2; exit 1; }
  export DB_CEILING="pgbench (TPC-B-like, \`-M prepared -c $pg_connections -j 2 -T $PGBENCH_SECONDS\`, scale $PGBENCH_SCALE, database \`pgbench\`, run just before): $tps transactions/s (5 statements each, 7 round trips with BEGIN and COMMIT)"
fi
bash "$here/$script" "$@"
