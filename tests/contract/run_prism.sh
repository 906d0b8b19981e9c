#!/usr/bin/env bash
# Contract check (tests/contract/README.md): runs the black-box suite's traffic through the
# Stoplight Prism pinned in tools/prism, which checks every request and response against
# docs/openapi.yaml; fails on any violation known_violations.py does not list. Installs the
# pinned Prism with `npm ci` when it is missing or stale; after that it runs offline.
# Usage: DELIVERYHUB_BIN=build/asan/src/app/deliveryhub tests/contract/run_prism.sh [pytest args]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tool_dir=$root/tools/prism
prism=$tool_dir/node_modules/.bin/prism
python=${PYTHON3:-/usr/bin/python3}

for cmd in node npm; do
  command -v "$cmd" >/dev/null || { echo "run_prism: $cmd not found (scripts/install-deps.sh installs it)" >&2; exit 2; }
done
# The pinned @stoplight/prism-cli 5.14.2 declares `engines.node: >=18.20.1`, which Debian 12's own
# nodejs (18.20.4) meets. (5.15 and later need >= 24.14, which Debian 12 does not ship.)
if ! node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  process.exit(maj > 18 || (maj === 18 && min >= 20) ? 0 : 1);'; then
  echo "run_prism: Node.js $(node --version) is too old for @stoplight/prism-cli; need >= 18.20.1" >&2
  exit 2
fi

# The version the lock file pins, and the one installed (empty when not installed).
wanted=$(node -p 'require(process.argv[1]).packages["node_modules/@stoplight/prism-cli"].version' \
  "$tool_dir/package-lock.json")
installed=$(node -p 'try { require(process.argv[1]).version } catch { "" }' \
  "$tool_dir/node_modules/@stoplight/prism-cli/package.json")
if [[ ! -x $prism || $installed != "$wanted" ]]; then
  echo "run_prism: installing @stoplight/prism-cli $wanted into tools/prism/node_modules" >&2
  (cd "$tool_dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

cd "$root"
export PYTHONDONTWRITEBYTECODE=1
# The check's own test first: bytes pass unchanged, Prism's verdicts become findings.
"$python" -m pytest -q -p no:cacheprovider tests/contract/test_prism_selftest.py

# The suite, less the files that test the process and its sockets rather than the API (their
# HTTP exchanges are the same operations the other files make, and a proxy in the middle would
# change what they measure): raw sockets and connection limits, signals and draining, SIGKILL,
# races (one Node process would serialize what they race), the README's curl walkthroughs (they
# address the server directly, never through the harness), and a JWKS server of its own that
# the check could only wait for.
DELIVERYHUB_TEST_PRISM=1 exec "$python" -m pytest -q -p no:cacheprovider \
  --ignore=tests/integration/test_connections.py \
  --ignore=tests/integration/test_shutdown.py \
  --ignore=tests/integration/test_crash.py \
  --ignore=tests/integration/test_races.py \
  --ignore=tests/integration/test_readme.py \
  --ignore=tests/integration/test_external_issuer.py \
  tests/integration "$@"
