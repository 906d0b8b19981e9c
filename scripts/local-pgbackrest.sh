#!/usr/bin/env bash
# A throw-away PostgreSQL 15 (scripts/local-postgres.sh) with continuous WAL archiving and base
# backups by pgBackRest (ADR 0037), everything in DIR: data/, socket/, repo/ (the repository),
# log/, lock/, spool/ and pgbackrest.conf, the one configuration file every command is given with
# --config (nothing is read from or written to /etc). For the point-in-time restore drill
# (tests/backup) and the runbook's procedure; never for anything but a test machine.
#   scripts/local-pgbackrest.sh start DIR [PORT]  a new server, archiving to DIR/repo, the stanza
#                                                 created and checked; prints the admin URL. When
#                                                 DIR/data holds a cluster (restored), starts that
#                                                 one on its port and waits for the end of recovery.
#   scripts/local-pgbackrest.sh backup DIR [full|diff|incr]   a base backup (default full)
#   scripts/local-pgbackrest.sh check DIR         pgBackRest's check: a WAL switch, archived in time
#   scripts/local-pgbackrest.sh info DIR          the repository's backups and WAL range, as JSON
#   scripts/local-pgbackrest.sh halt DIR          fast shutdown of the server, everything kept
#   scripts/local-pgbackrest.sh restore DIR TIME  into DIR/data, which must be gone or empty (the
#                                                 server stopped): recovery to TIME (a PostgreSQL
#                                                 timestamp with zone), then promotion
#   scripts/local-pgbackrest.sh stop DIR          fast shutdown, then rm -rf DIR
# As root, the server and every pgBackRest command run as the `postgres` user (runuser), which
# owns DIR: archive_command runs as the server's user and must write where backups write.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
STANZA=deliveryhub
usage="usage: $0 start DIR [PORT] | backup DIR [full|diff|incr] | check DIR | info DIR | halt DIR | restore DIR TIME | stop DIR"
cmd=${1:?$usage}
dir=${2:?$usage}
command -v pgbackrest >/dev/null || { echo "local-pgbackrest: no pgbackrest (apt-get install pgbackrest)" >&2; exit 1; }
as_owner=(); [[ $(id -u) == 0 ]] && as_owner=(runuser -u postgres --)
[[ $dir == /* ]] || dir=$PWD/$dir
conf=$dir/pgbackrest.conf
pgbackrest=("${as_owner[@]}" pgbackrest "--config=$conf" "--stanza=$STANZA")

pg_ctl_start() {  # the options local-postgres.sh starts the server with
  "${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 \
    -o "-p $(cat "$dir/port") -k $dir/socket -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=128MB" start >/dev/null \
    || { tail -n 30 "$dir/server.log" >&2; exit 1; }
}
admin_url() { echo "postgresql://postgres@127.0.0.1:$(cat "$dir/port")/postgres"; }
psql_admin() { psql -X -q -At -v ON_ERROR_STOP=1 "$(admin_url)" "$@"; }

case $cmd in
  start)
    if [[ -f $dir/data/PG_VERSION ]]; then
      pg_ctl_start
      # A restored cluster replays WAL to the target, then promotes: ready when it takes writes.
      for _ in $(seq 1 600); do
        [[ $(psql_admin -c 'SELECT pg_is_in_recovery()' 2>/dev/null) == f ]] && { admin_url; exit 0; }
        sleep 0.1
      done
      echo "local-pgbackrest: still in recovery after 60 s" >&2; tail -n 30 "$dir/server.log" >&2; exit 1
    fi
    url=$("$root/scripts/local-postgres.sh" start "$dir" ${3:+"$3"})
    port=${url##*:}; echo "${port%%/*}" >"$dir/port"
    mkdir -p "$dir/repo" "$dir/log" "$dir/lock" "$dir/spool"
    cat >"$conf" <<EOF
[global]
repo1-path=$dir/repo
# Two full backups kept, and the differential/incremental backups and WAL that depend on them.
repo1-retention-full=2
log-path=$dir/log
lock-path=$dir/lock
spool-path=$dir/spool
log-level-console=warn
log-level-file=info
compress-type=lz4
# An immediate checkpoint at the start of a backup, not the next scheduled one.
start-fast=y
process-max=2

[$STANZA]
pg1-path=$dir/data
pg1-port=$(cat "$dir/port")
pg1-socket-path=$dir/socket
pg1-user=postgres
EOF
    [[ $(id -u) == 0 ]] && chown -R postgres: "$dir"
    chmod 640 "$conf"
    # Archiving: every WAL segment pushed to the repository as soon as it is full, and at least
    # every archive_timeout while anything is written (the bound on what a lost disk loses).
    psql_admin -c "ALTER SYSTEM SET archive_mode = 'on'" \
      -c "ALTER SYSTEM SET archive_command = 'pgbackrest --config=$conf --stanza=$STANZA archive-push %p'" \
      -c "ALTER SYSTEM SET archive_timeout = '60s'"
    "$root/scripts/local-postgres.sh" restart "$dir"  # archive_mode takes a restart
    "${pgbackrest[@]}" stanza-create
    "${pgbackrest[@]}" check
    admin_url
    ;;
  backup)
    type=${3:-full}
    [[ $type =~ ^(full|diff|incr)$ ]] || { echo "$usage" >&2; exit 2; }
    "${pgbackrest[@]}" --type="$type" backup
    ;;
  check) "${pgbackrest[@]}" check ;;
  info) "${pgbackrest[@]}" --output=json info ;;
  halt)
    [[ -f $dir/data/postmaster.pid ]] && "${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    true
    ;;
  restore)
    target=${3:?$usage}
    [[ -f $dir/data/postmaster.pid ]] && { echo "local-pgbackrest: the server in $dir runs; halt it first" >&2; exit 1; }
    mkdir -p "$dir/data" && chmod 700 "$dir/data"
    [[ $(id -u) == 0 ]] && chown postgres: "$dir/data"
    "${pgbackrest[@]}" --type=time "--target=$target" --target-action=promote restore
    ;;
  stop)
    "$root/scripts/local-postgres.sh" stop "$dir"
    ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
