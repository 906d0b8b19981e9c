#!/usr/bin/env bash
# Renders every variant in tests/k8s/variants.txt with the pinned kustomize (render.sh), and each
# overlay with `kubectl kustomize` when kubectl is installed, and validates every object offline
# against the Kubernetes, prometheus-operator and Istio schemas, unknown fields included
# (tools/k8s-validate/validate.mjs); also k8s/cluster (render.sh cluster) and the files that no
# overlay renders (the Secret and PostgreSQL restore Job templates, EKS's StorageClass). First it
# shows that the validator rejects each broken object in fixtures/ (a `portz` typo, an unknown
# kind, typos in custom resources, a wrong type) with the message on the fixture's `# expect:`
# line. Exits non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
validate=(node "$root/tools/k8s-validate/validate.mjs")
"$here/render.sh" --install

failures=0
for fixture in "$here"/fixtures/*.yaml; do
  expect=$(sed -n 's/^# expect: //p' "$fixture")
  if out=$("${validate[@]}" "$fixture"); then
    echo "FAIL self-test: $(basename "$fixture") was accepted"; failures=$((failures + 1))
  elif [[ $out != *"$expect"* ]]; then
    echo "FAIL self-test: $(basename "$fixture") rejected without '$expect':"; echo "$out"
    failures=$((failures + 1))
  else
    echo "ok   self-test: $(basename "$fixture") rejected: $expect"
  fi
done

# One validator run over every render: objects that several variants share are checked once.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
files=()
while read -r -a variant; do
  [[ ${#variant[@]} == 0 || ${variant[0]} == \#* ]] && continue
  file="$out/$(IFS=+; echo "${variant[*]}").yaml"
  if "$here/render.sh" "${variant[@]}" > "$file"; then
    files+=("$file")
  else
    echo "FAIL render: ${variant[*]}"; failures=$((failures + 1))
  fi
done < "$here/variants.txt"
# What an administrator applies once (ADR 0040).
if "$here/render.sh" cluster > "$out/cluster.yaml"; then
  files+=("$out/cluster.yaml")
else
  echo "FAIL render: cluster"; failures=$((failures + 1))
fi
# The issue asks for `kubectl kustomize` too: where kubectl is installed, its render of each
# committed overlay is validated as well (kubectl's own kustomize may be another version).
if command -v kubectl >/dev/null; then
  for overlay in "$root"/k8s/overlays/*/; do
    name=$(basename "$overlay")
    if kubectl kustomize "$overlay" > "$out/kubectl-$name.yaml"; then
      files+=("$out/kubectl-$name.yaml")
    else
      echo "FAIL kubectl kustomize: $name"; failures=$((failures + 1))
    fi
  done
else
  echo "kubectl not installed: its renders are not checked (the pinned kustomize's are)"
fi
files+=("$root/k8s/base/secret.template.yaml" "$root/k8s/base/postgres-restore.template.yaml"
        "$root/k8s/cluster/storage-class-ebs.yaml")
"${validate[@]}" "${files[@]}" | grep -v '^ok ' || failures=$((failures + 1))

if ((failures)); then echo "k8s validation: $failures failed"; exit 1; fi
echo "k8s validation: every variant renders and validates"
