#!/usr/bin/env bash
# Benchmark: throughput against cores. For each CPU count N (1, 2, 4, … up to the CPUs present),
# deliveryhub and nginx are pinned to CPUs 0..N-1 (`taskset`; deliveryhub's thread defaults
# follow its affinity, nginx gets N workers) and bench/orders_get.sh and bench/orders_post.sh run
# against them; wrk is not pinned. Reports per N: nginx's GET ceiling, deliveryhub's GET req/s
# and p99, its POST accepted/s, p99 and settled share at +5 s, in a table, a CSV and a plot
# (bench/plots/, needs python3-matplotlib). With POSTGRES=1, also POST on PostgreSQL
# (bench/on_postgres.sh orders_post.sh, PostgreSQL pinned to the same CPUs) beside pgbench's
# TPC-B-like ceiling on that server in the same sitting. See bench/README.md.
#
# Usage: bash bench/scaling.sh [path/to/deliveryhub]
# Environment (defaults): CORES (1 2 4 … and the CPU count) RUNS=3 DURATION=10 POSTGRES=0
#   PGBENCH_SECONDS=30, SERVER_ARGS,
#   RESULTS ("-" = do not append; the plot is written either way) and KEEP_TMP as for every bench.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
POSTGRES=${POSTGRES:-0}
RESULTS=${RESULTS:-$here/RESULTS.md}
cpus=$(nproc)
if [[ -z ${CORES:-} ]]; then
  CORES=""
  for ((n = 1; n < cpus; n *= 2)); do CORES+="$n "; done
  CORES+="$cpus"
fi
read -r -a counts <<<"$CORES"
for n in "${counts[@]}"; do
  [[ $n =~ ^[0-9]+$ ]] && (( n >= 1 && n <= cpus )) || { echo "scaling: bad CPU count $n (1 to $cpus)" >&2; exit 2; }
done
command -v taskset >/dev/null || { echo "scaling: needs taskset (util-linux)" >&2; exit 1; }
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || { echo "scaling: needs python3-matplotlib" >&2; exit 1; }

work=$(mktemp -d /tmp/dh-bench-scaling.XXXXXX)
trap 'rm -rf "$work"' EXIT
csv=$work/scaling.csv
echo "cpus,nginx_get_rps,get_rps,get_p99_ms,post_accepted_per_s,post_p99_ms,settled_pct,pg_post_accepted_per_s,pg_settled_pct,pgbench_tps" >"$csv"

# median_row FILE NAME: "RATE P99" from the "median of" table of a report.
median_row() {
  awk -v name="$2" '/^\| median of/ { table = 1 } table && index($0, "| " name " |") == 1 {
    split($0, f, "|"); gsub(/ /, "", f[3]); gsub(/ /, "", f[5]); print f[3], f[5]; exit }' "$1"
}

# settled_share FILE: the median settled share at +5 s of an orders_post.sh report, without %.
settled_share() {
  grep -o 'median confirmed within [0-9]* s after the run / accepted: [0-9.]*%' "$1" | grep -o '[0-9.]*%$' | tr -d % || true
}

for n in "${counts[@]}"; do
  export PIN_CPUS="0-$((n - 1))" NGINX_WORKERS=$n
  echo "[bench] scaling: $n CPU(s), GET" >&2
  RESULTS=$work/get-$n.md RUNS=$RUNS DURATION=$DURATION bash "$here/orders_get.sh" "$@" >/dev/null
  echo "[bench] scaling: $n CPU(s), POST" >&2
  RESULTS=$work/post-$n.md RUNS=$RUNS DURATION=$DURATION bash "$here/orders_post.sh" "$@" >/dev/null
  read -r ng _ < <(median_row "$work/get-$n.md" "nginx (ceiling)")
  read -r get get_p99 < <(median_row "$work/get-$n.md" "deliveryhub")
  read -r post post_p99 < <(median_row "$work/post-$n.md" "deliveryhub")
  settled=$(settled_share "$work/post-$n.md")
  pg_post=n/a pg_settled=n/a pgbench=n/a
  if [[ $POSTGRES == 1 ]]; then
    echo "[bench] scaling: $n CPU(s), POST on PostgreSQL" >&2
    RESULTS=$work/pg-post-$n.md RUNS=$RUNS DURATION=$DURATION bash "$here/on_postgres.sh" orders_post.sh "$@" >/dev/null
    read -r pg_post _ < <(median_row "$work/pg-post-$n.md" "deliveryhub")
    pg_settled=$(settled_share "$work/pg-post-$n.md")
    pgbench=$(grep -o '[0-9]* transactions/s' "$work/pg-post-$n.md" | head -1 | cut -d' ' -f1)
  fi
  echo "$n,$ng,$get,$get_p99,$post,$post_p99,${settled:-n/a},$pg_post,${pg_settled:-n/a},${pgbench:-n/a}" >>"$csv"
done

stamp=$(date -u '+%Y-%m-%d %H:%M UTC')
mkdir -p "$here/plots"
plot=plots/scaling-$(date -u '+%Y%m%d-%H%M').png
/usr/bin/python3 "$here/plot_scaling.py" "$csv" "$here/$plot" "$(head -1 <(grep -h '^- Machine:' "$work"/get-*.md))"
commit=$(grep -h -o 'commit [0-9a-f]*)' "$work/get-${counts[0]}.md" | head -1 | tr -d ')' | cut -d' ' -f2)

report=$work/report.md
{
  echo "## $stamp — scaling with CPUs: GET and POST /api/v1/orders (commit ${commit:-unknown})"
  echo
  grep -h '^- Machine:' "$work/get-${counts[0]}.md"
  echo "- Command: \`CORES=\"$CORES\" RUNS=$RUNS DURATION=$DURATION POSTGRES=$POSTGRES bash bench/scaling.sh${1:+ $1}\`; per CPU count N, \`PIN_CPUS=0-(N-1) NGINX_WORKERS=N\` bench/orders_get.sh (64 connections) and bench/orders_post.sh (32 connections)$( [[ $POSTGRES == 1 ]] && echo ", and bench/on_postgres.sh orders_post.sh (PostgreSQL on the same CPUs; pgbench \`-M prepared -c 32 -j 2 -T ${PGBENCH_SECONDS:-30}\` on that server first)"), medians of $RUNS runs of ${DURATION} s; deliveryhub's threads are its defaults for N CPUs; wrk and pgbench are not pinned"
  echo "- Plot: [bench/$plot]($plot)"
  echo
  echo "| CPUs | nginx GET req/s | GET req/s | of nginx | GET p99 ms | POST accepted/s | POST p99 ms | settled by +5 s | PostgreSQL POST accepted/s | settled by +5 s | pgbench tps |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  tail -n +2 "$csv" | while IFS=, read -r c ng g gp p pp st pgp pgs pgt; do
    pct=$(awk -v a="$g" -v b="$ng" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "n/a" }')
    echo "| $c | $ng | $g | $pct | $gp | $p | $pp | $st% | $pgp | $pgs% | $pgt |"
  done
  echo
} >"$report"
cat "$report"
if [[ $RESULTS != "-" ]]; then cat "$report" >>"$RESULTS"; echo "[bench] appended to $RESULTS" >&2; fi
