#!/usr/bin/env bash
# bench/orders_post.sh on a throw-away PostgreSQL with pgbench as the database's ceiling: the
# command earlier results name. Same as `bash bench/on_postgres.sh orders_post.sh [binary]`.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/on_postgres.sh" orders_post.sh "$@"
