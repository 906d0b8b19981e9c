#!/usr/bin/env bash
# A throw-away PostgreSQL 15 on 127.0.0.1 for tests and benchmarks: data, socket and log in DIR.
#   scripts/local-postgres.sh start DIR [PORT]   initdb + start; prints the admin URL on stdout
#   scripts/local-postgres.sh stop DIR           fast shutdown (by the PID in DIR), then rm -rf DIR
#   scripts/local-postgres.sh restart DIR        fast shutdown and start again, data kept (chaos/)
# Trust authentication on 127.0.0.1 only; never for anything but a test machine. As root, the
# server runs as the `postgres` user (initdb refuses root).
set -euo pipefail
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[[ -x $PG_BIN/initdb ]] || { echo "local-postgres: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }
cmd=${1:?usage: $0 start|stop|restart DIR [PORT]}
dir=${2:?usage: $0 start|stop DIR [PORT]}
as_owner=(); [[ $(id -u) == 0 ]] && as_owner=(runuser -u postgres --)

case $cmd in
  start)
    port=${3:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
    mkdir -p "$dir/data" "$dir/socket"
    [[ $(id -u) == 0 ]] && chown -R postgres: "$dir"
    "${as_owner[@]}" "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # fsync stays on: the crash tests rely on durable commits. Enough connections for 5 modules × pools.
    "${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=128MB" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    [[ -f $dir/data/postmaster.pid ]] && "${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  restart)
    "${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null
    ;;
  *) echo "usage: $0 start|stop|restart DIR [PORT]" >&2; exit 2 ;;
esac
