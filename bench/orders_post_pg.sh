#!/usr/bin/env bash
# Benchmark: bench/orders_post.sh with deliveryhub on PostgreSQL (a throw-away server from
# scripts/local-postgres.sh on 127.0.0.1, stopped afterwards), and in the same sitting, on the
# same server, pgbench's built-in TPC-B-like script at the same number of connections as the
# database's ceiling. Round trips per order: the statements column of the cost table (each
# statement, BEGIN and COMMIT included, is one round trip with libpqxx).
#
# Usage: bash bench/orders_post_pg.sh [path/to/deliveryhub]
# Environment: PGBENCH_SECONDS=30, PGBENCH_SCALE=10, and everything bench/orders_post.sh takes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
PGBENCH_SECONDS=${PGBENCH_SECONDS:-30}
PGBENCH_SCALE=${PGBENCH_SCALE:-10}
CONNECTIONS=${CONNECTIONS:-32}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[[ -x $PG_BIN/pgbench ]] || { echo "orders_post_pg: no pgbench (apt-get install postgresql)" >&2; exit 1; }

dir=$(mktemp -d /tmp/dh-bench-pg.XXXXXX)
chmod 755 "$dir"
trap '"$root/scripts/local-postgres.sh" stop "$dir"' EXIT
admin=$("$root/scripts/local-postgres.sh" start "$dir")
base=${admin%/postgres}
"$PG_BIN/psql" -q "$admin" -c 'CREATE DATABASE deliveryhub' -c 'CREATE DATABASE pgbench'

echo "[bench] pgbench: scale $PGBENCH_SCALE, $CONNECTIONS connections, ${PGBENCH_SECONDS}s" >&2
"$PG_BIN/pgbench" -q -i -s "$PGBENCH_SCALE" "$base/pgbench" >/dev/null 2>&1
tps=$("$PG_BIN/pgbench" -n -M prepared -c "$CONNECTIONS" -j 2 -T "$PGBENCH_SECONDS" "$base/pgbench" 2>/dev/null \
  | awk '/^tps = / { printf "%.0f", $3 }')
[[ -n $tps ]] || { echo "orders_post_pg: pgbench gave no result" >&2; exit 1; }
pg_version=$("$PG_BIN/postgres" --version | awk '{ print $NF }')

export DH_DATABASE="$base/deliveryhub"
export DB_LABEL="PostgreSQL $pg_version on 127.0.0.1 (scripts/local-postgres.sh: fsync on, shared_buffers 128MB), database \`deliveryhub\`"
export DB_CEILING="pgbench (TPC-B-like, \`-M prepared -c $CONNECTIONS -j 2 -T $PGBENCH_SECONDS\`, scale $PGBENCH_SCALE, database \`pgbench\`, run just before): $tps transactions/s (5 statements each, 7 round trips with BEGIN and COMMIT)"
bash "$here/orders_post.sh" "$@"
