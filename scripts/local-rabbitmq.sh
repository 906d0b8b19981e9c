#!/usr/bin/env bash
# A throw-away RabbitMQ on 127.0.0.1 for tests and benchmarks: mnesia, logs and cookie in DIR.
#   scripts/local-rabbitmq.sh start DIR   boots the broker (≈ 8 s); prints the AMQP URL on stdout
#   scripts/local-rabbitmq.sh stop DIR    stops the broker and its epmd, then rm -rf DIR
#   scripts/local-rabbitmq.sh ctl DIR ARGS…   rabbitmqctl against it (e.g. list_queues)
# Guest/guest on 127.0.0.1 only: never for anything but a test machine.
set -euo pipefail
RMQ_BIN=/usr/lib/rabbitmq/bin
[[ -x $RMQ_BIN/rabbitmq-server ]] || { echo "local-rabbitmq: no RabbitMQ (apt-get install rabbitmq-server)" >&2; exit 1; }
cmd=${1:?usage: $0 start|stop|ctl DIR}
dir=${2:?usage: $0 start|stop|ctl DIR}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

environment() {  # the server and the CLI must share all of it (the cookie lives in $HOME)
  # shellcheck disable=SC1091
  source "$dir/ports"
  export HOME=$dir/home RABBITMQ_NODENAME=dh@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$AMQP_PORT RABBITMQ_DIST_PORT=$DIST_PORT
  export RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log
  export RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins RABBITMQ_CONFIG_FILE=$dir/rabbitmq
  export RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$EPMD_PORT
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export ERL_INETRC=$dir/erl_inetrc
}

case $cmd in
  start)
    mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
    if [[ ! -f $dir/ports ]]; then
      printf 'AMQP_PORT=%s\nDIST_PORT=%s\nEPMD_PORT=%s\n' "$(free_port)" "$(free_port)" "$(free_port)" > "$dir/ports"
    fi
    echo '{lookup,[file]}.' > "$dir/erl_inetrc"   # no DNS: ≈ 10 s less per boot
    echo '[].' > "$dir/enabled_plugins"
    : > "$dir/rabbitmq-env.conf"
    echo 'loopback_users = none' > "$dir/rabbitmq.conf"
    environment
    "$RMQ_BIN/rabbitmq-server" > "$dir/log/console.log" 2>&1 &
    echo $! > "$dir/pid"
    # await_startup fails at once while the node has not registered yet: ask again until ready.
    deadline=$((SECONDS + 90))
    until "$RMQ_BIN/rabbitmqctl" -q await_startup --timeout 60 >/dev/null 2>&1; do
      if ((SECONDS >= deadline)) || ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
        echo "local-rabbitmq: the broker did not start" >&2; cat "$dir/log/console.log" >&2; exit 1
      fi
      sleep 0.5
    done
    echo "amqp://guest:guest@127.0.0.1:$AMQP_PORT"
    ;;
  stop)
    if [[ -f $dir/ports ]]; then
      environment
      "$RMQ_BIN/rabbitmqctl" -q stop >/dev/null 2>&1 || true
      [[ -f $dir/pid ]] && kill "$(cat "$dir/pid")" 2>/dev/null || true
      epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
    fi
    [[ ${KEEP:-} == 1 ]] || rm -rf "$dir"
    ;;
  ctl)
    environment
    shift 2
    "$RMQ_BIN/rabbitmqctl" "$@"
    ;;
  *) echo "usage: $0 start|stop|ctl DIR" >&2; exit 2 ;;
esac
