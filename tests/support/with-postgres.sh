#!/usr/bin/env bash
# Runs COMMAND with a throw-away PostgreSQL on 127.0.0.1 (scripts/local-postgres.sh), its admin
# URL in DELIVERYHUB_TEST_POSTGRES; stops and removes the server afterwards, whatever happens.
#   tests/support/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/deliveryhub-pg-XXXXXX)
trap '"$root/scripts/local-postgres.sh" stop "$dir"' EXIT
DELIVERYHUB_TEST_POSTGRES=$("$root/scripts/local-postgres.sh" start "$dir")
export DELIVERYHUB_TEST_POSTGRES
"$@"
