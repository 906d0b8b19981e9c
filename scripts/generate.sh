#!/usr/bin/env bash
# Regenerates everything the module graph decides (ADR 0024): docs/modules.json from the binary's
# registry (`deliveryhub modules --json`), then, from it and k8s/modules.yaml, the Kubernetes
# objects, the gateway's routes and upstreams, and the Secret template's keys
# (tools/k8s/generate.py). Run it after adding a module or changing a descriptor.
#   scripts/generate.sh [BINARY]           writes the files
#   scripts/generate.sh --check [BINARY]   writes nothing; exits 1 naming what is out of date
# BINARY: a built deliveryhub (default: the first of build/{asan,dev,release}/src/app/deliveryhub).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
check=false
[[ ${1:-} == --check ]] && { check=true; shift; }
bin=${1:-}
if [[ -z $bin ]]; then
  for preset in asan dev release; do
    [[ -x $root/build/$preset/src/app/deliveryhub ]] && { bin=$root/build/$preset/src/app/deliveryhub; break; }
  done
fi
[[ -n $bin && -x $bin ]] || { echo "generate: no deliveryhub binary (build one, or pass its path)" >&2; exit 2; }
graph=$(mktemp)
trap 'rm -f "$graph"' EXIT
ASAN_OPTIONS=detect_leaks=0 "$bin" modules --json > "$graph"
if $check; then
  if ! cmp -s "$graph" "$root/docs/modules.json"; then
    echo "out of date (run scripts/generate.sh): docs/modules.json differs from \`$bin modules --json\`:" >&2
    diff -u "$root/docs/modules.json" "$graph" >&2 || true
    exit 1
  fi
  exec python3 "$root/tools/k8s/generate.py" --check
fi
cp "$graph" "$root/docs/modules.json"
python3 "$root/tools/k8s/generate.py"
echo "generated from $bin: docs/modules.json and what tools/k8s/generate.py writes"
