#!/usr/bin/env bash
# Runs COMMAND with a throw-away RabbitMQ on 127.0.0.1 (scripts/local-rabbitmq.sh): its URL in
# DELIVERYHUB_TEST_AMQP and its folder in DELIVERYHUB_TEST_RABBITMQ_DIR (for tests that stop and
# start the broker); stops and removes it afterwards, whatever happens.
#   tests/support/with-rabbitmq.sh COMMAND [ARGS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/deliveryhub-rmq-XXXXXX)
trap '"$root/scripts/local-rabbitmq.sh" stop "$dir"' EXIT
DELIVERYHUB_TEST_AMQP=$("$root/scripts/local-rabbitmq.sh" start "$dir")
DELIVERYHUB_TEST_RABBITMQ_DIR=$dir
export DELIVERYHUB_TEST_AMQP DELIVERYHUB_TEST_RABBITMQ_DIR
"$@"
