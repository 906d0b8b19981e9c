#!/usr/bin/env bash
# Installs every Debian package that building, testing, benchmarking and running deliveryhub need.
# Idempotent: a second run installs nothing new. Used by the README, .ci/run and the Dockerfile.
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build ccache mold pkg-config git curl jq
  libboost1.81-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libsqlite3-dev libpqxx-dev
  libssl-dev prometheus-cpp-dev libcli11-dev libsodium-dev librabbitmq-dev
)
test_packages=(
  catch2 python3 python3-pytest python3-yaml python3-psycopg2 python3-pika python3-hypothesis python3-jsonschema postgresql rabbitmq-server curl clang clang-format clang-tidy libclang-rt-14-dev nodejs npm
  chromium prometheus python3-locust python3-matplotlib pgbackrest
)
bench_packages=(wrk nginx)

wanted=("${build_packages[@]}")
case "${1:-all}" in
  build) ;;
  all) wanted+=("${test_packages[@]}" "${bench_packages[@]}") ;;
  *) echo "usage: $0 [build|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
# A machine whose image already ships node/npm outside dpkg (e.g. /usr/local) keeps its own.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi
if ((${#missing[@]})); then
  sudo_cmd=(); [[ $(id -u) == 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
