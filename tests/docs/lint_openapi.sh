#!/usr/bin/env bash
# Lints docs/openapi.yaml with the Redocly CLI pinned in tools/openapi-lint (rules: redocly.yaml,
# single-place exceptions: .redocly.lint-ignore.yaml). Installs the pinned CLI with `npm ci` when
# it is missing or stale; after that it runs offline. Exits non-zero on any lint error.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tool_dir=$root/tools/openapi-lint
redocly=$tool_dir/node_modules/.bin/redocly

for cmd in node npm; do
  command -v "$cmd" >/dev/null || { echo "lint_openapi: $cmd not found (scripts/install-deps.sh installs it)" >&2; exit 2; }
done
# The pinned @redocly/cli 1.x declares `engines.node: >=18.17.0`, so Debian 12's own nodejs
# (18.x) is enough. (2.x would need >= 20.19, which Debian 12 does not ship.)
if ! node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  process.exit(maj > 18 || (maj === 18 && min >= 17) ? 0 : 1);'; then
  echo "lint_openapi: Node.js $(node --version) is too old for @redocly/cli; need >= 18.17" >&2
  exit 2
fi

# The version the lock file pins, and the one installed (empty when not installed).
wanted=$(node -p 'require(process.argv[1]).packages["node_modules/@redocly/cli"].version' \
  "$tool_dir/package-lock.json")
installed=$(node -p 'try { require(process.argv[1]).version } catch { "" }' \
  "$tool_dir/node_modules/@redocly/cli/package.json")
if [[ ! -x $redocly || $installed != "$wanted" ]]; then
  echo "lint_openapi: installing @redocly/cli $wanted into tools/openapi-lint/node_modules" >&2
  (cd "$tool_dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
cd "$root"
exec "$redocly" lint --config redocly.yaml docs/openapi.yaml
