#!/usr/bin/env bash
# Benchmark: deliveryhub's start-up time (spawn → "listening" log line, spawn → first
# GET /readyz 200; median of STARTS starts, each on a fresh temp SQLite database) and its
# resident memory (VmRSS) right after start, after IDLE s idle, and after the orders set-up.
# Targets of the issue: start-up <= 100 ms, idle RSS <= 30 MB. See bench/README.md.
#
# Usage: bash bench/startup_rss.sh [path/to/deliveryhub]
# Environment (defaults): STARTS=10 (timed starts) IDLE=5 (seconds idle before the RSS reading)
#   and SERVER_ARGS, RESULTS ("-" = do not append), KEEP_TMP, as for every bench/*.sh (README)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_params STARTS=10 IDLE=5
(( STARTS >= 1 && STARTS <= 100 )) || die "STARTS must be 1 to 100"
(( IDLE <= 600 )) || die "IDLE must be at most 600"
require_tools curl jq python3 awk sort
pick_binary "$@"
make_tmp
machine_facts

# --- timed starts -----------------------------------------------------------------------------
# Each on a fresh database in a fresh cwd (migrations run, a development JWT key is generated),
# without the bootstrap operator: its argon2id hash happens once in a deployment's life.
# shellcheck disable=SC2206
EXTRA=( $SERVER_ARGS )
start_cmd() { # $1 = the start's directory; sets START_ARGV
  START_ARGV=( python3 "$BENCH_DIR/startup_probe.py" "$1" --
               "$BIN" serve --listen 127.0.0.1:0 --database "sqlite:$1/db.sqlite" --log-level info "${EXTRA[@]}" )
}
declare -a LISTENING READY START_ROWS
for i in $(seq 1 "$STARTS"); do
  dir=$TMP/start$i
  mkdir "$dir"
  start_cmd "$dir"
  out=$(env -u DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL -u DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD "${START_ARGV[@]}") ||
    { tail -n 5 "$dir/deliveryhub.log" "$dir/deliveryhub.err" >&2 || true; die "start $i failed"; }
  read -r listening ready rc <<<"$out"
  note "start $i/$STARTS: listening after $listening ms, ready after $ready ms, exit code $rc"
  LISTENING+=("$listening"); READY+=("$ready")
  START_ROWS+=("| $i | $listening | $ready | $rc |")
  if [[ $rc != 0 ]]; then WARNINGS+=("start $i: exit code $rc after SIGTERM (expected 0)"); fi
  [[ $KEEP_TMP == 1 ]] || rm -rf "$dir"
done
start_cmd "$TMP/startN"
START_CMD=$(q "${START_ARGV[@]}" | sed "s|$TMP|\$TMP|g; s|$REPO_ROOT/||g")

stats() { # min median max of the values, with 1 decimal
  printf '%s | %s | %s' "$(printf '%s\n' "$@" | sort -g | head -n1)" "$(median %.1f "$@")" \
    "$(printf '%s\n' "$@" | sort -g | tail -n1)"
}

# --- RSS: one server, idle, then the orders set-up --------------------------------------------
start_deliveryhub
drain_startup_log
rss_row() { # $1 = when; a table row with VmRSS and VmHWM (kB) from /proc/PID/status
  local rss hwm
  read -r rss hwm < <(awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} END {print r, h}' "/proc/$DH_PID/status")
  RSS_ROWS+=("| $1 | $rss | $(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}') | $hwm |")
  LAST_RSS_KB=$rss
}
RSS_ROWS=()
rss_row "right after the \"listening\" line"
note "idle for ${IDLE}s"
sleep "$IDLE"
rss_row "after ${IDLE} s idle"
IDLE_RSS_KB=$LAST_RSS_KB
setup_confirmed_order
rss_row "after the orders set-up"
finish_servers

MED_READY=$(median %.1f "${READY[@]}")
IDLE_RSS_MIB=$(awk -v k="$IDLE_RSS_KB" 'BEGIN {printf "%.1f", k / 1024}')
VERDICT=$(awk -v t="$MED_READY" -v m="$IDLE_RSS_MIB" 'BEGIN {
  printf "start-up (median spawn → /readyz 200) %.1f ms, target ≤ 100 ms: %s; ", t, (t <= 100) ? "met" : "NOT met"
  printf "idle RSS %.1f MiB, target ≤ 30 MB: %s", m, (m <= 30) ? "met" : "NOT met" }')

# --- report -------------------------------------------------------------------------------------
REPORT=$TMP/report.md
{
  report_head "start-up time and idle RSS"
  echo "- Command: \`$(script_cmd)\`"
  echo "- Start-up: \`$START_CMD\` for N = 1 … $STARTS, one after the other, bootstrap operator not set; each on a fresh SQLite database in a fresh cwd (migrations run, a development JWT key is generated); the probe takes the clock just before spawning, reads the \"listening\" line's own ts (millisecond resolution) and polls GET /readyz about every millisecond until 200, then stops the server with SIGTERM"
  echo "- RSS: \`$(display_dh_cmd)\` (cwd \$TMP, bootstrap operator set), VmRSS and VmHWM (peak) from /proc/PID/status; the orders set-up is the operator's login, a zone, a product, a courier, a customer's registration, login and address, and one order until confirmed (three argon2id hashes among them)"
  echo "- deliveryhub (RSS) $DH_STOP; warning/error log lines after start-up: $OTHER_LINES"
  echo
  echo "| start | spawn → \"listening\" ms | spawn → /readyz 200 ms | exit code |"
  echo "|---:|---:|---:|---:|"
  printf '%s\n' "${START_ROWS[@]}"
  echo
  echo "| of $STARTS starts | min | median | max |"
  echo "|---|---:|---:|---:|"
  echo "| spawn → \"listening\" ms | $(stats "${LISTENING[@]}") |"
  echo "| spawn → /readyz 200 ms | $(stats "${READY[@]}") |"
  echo
  echo "| RSS | VmRSS kB | VmRSS MiB | VmHWM kB |"
  echo "|---|---:|---:|---:|"
  printf '%s\n' "${RSS_ROWS[@]}"
  echo
  echo "**$VERDICT**"
  echo
} >"$REPORT"
publish_report "$REPORT"
[[ $DH_EXIT == 0 ]] || exit 1
