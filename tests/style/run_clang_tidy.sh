#!/usr/bin/env bash
# clang-tidy over every source under src/ (the modules' tests excepted) with the repository's
# .clang-tidy, every finding an error (ctest: style.clang_tidy).
#
# The compile database comes from a configure-only CMake run in a temporary folder, as a unity
# build: the translation units the asan build compiles, 8 sources each, plus the few sources that
# build alone. Each unit parses the Boost, Asio and nlohmann headers once for its 8 sources, which
# makes checking about 3 to 4 times cheaper than file by file (about 2½ minutes of one core, not 8).
# Findings are reported in src/ only: the generated sources (build information, module list,
# embedded OpenAPI document) are parsed, not checked. The two units that compile Boost's own
# sources (src/core/http/*_src.cpp) are skipped.
#
# Usage: tests/style/run_clang_tidy.sh [REGEX]   only the units with a source whose path matches
# Environment: CLANG_TIDY (binary, clang-tidy), CLANG_TIDY_JOBS (2), CLANG_TIDY_NICE (10),
#              CLANG_TIDY_UNITY=0 (file by file: slower, and also checks that each file parses alone)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
only=${1:-}
clang_tidy=${CLANG_TIDY:-clang-tidy}
jobs=${CLANG_TIDY_JOBS:-2}
niceness=${CLANG_TIDY_NICE:-10}
unity=${CLANG_TIDY_UNITY:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/clang-tidy.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/logs"
: >"$work/failed"

# Self-test: the fixture's deliberate findings must come out as errors. A .clang-tidy that no
# longer loads, or that lost these checks, must not pass this test by finding nothing.
fixture=$root/tests/style/fixtures/findings.cpp
if "$clang_tidy" --quiet --config-file="$root/.clang-tidy" --warnings-as-errors='*' "$fixture" -- -std=c++20 \
  >"$work/fixture.log" 2>&1; then
  cat "$work/fixture.log"
  echo "FAIL: clang-tidy reported nothing on $fixture, which has deliberate findings" >&2
  exit 1
fi
for check in readability-identifier-naming bugprone-use-after-move; do
  if ! grep -q "error: .*\[$check" "$work/fixture.log"; then
    cat "$work/fixture.log"
    echo "FAIL: clang-tidy reported no $check error on $fixture" >&2
    exit 1
  fi
done

[[ $unity == 0 ]] && unity_build=OFF || unity_build=ON
if ! cmake -S "$root" -B "$work/build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_UNITY_BUILD="$unity_build" \
  -DDELIVERYHUB_TESTS=OFF -DDELIVERYHUB_FUZZ=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$work/configure.log" 2>&1; then
  cat "$work/configure.log"
  exit 1
fi

# The units to check, longest first (the sources that build alone are the Asio/Beast coroutine
# ones), how many of src/'s sources they hold, and the generated sources they need that the
# configure step does not write (made by build rules: the embedded OpenAPI document).
python3 - "$work/build" "$root" "$only" "$work" <<'EOF'
import json, os, re, sys

build, root, only, work = sys.argv[1:5]
src = os.path.join(root, "src") + os.sep
skip = re.compile(r"/src/core/http/\w+_src\.cpp$")
alone, merged, missing, count = [], [], set(), 0
for entry in json.load(open(os.path.join(build, "compile_commands.json"))):
    unit = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    if unit.startswith(src):
        sources = [unit]
    elif unit.startswith(build + os.sep) and "/Unity/" in unit:
        sources = re.findall(r'^#include "([^"]+)"', open(unit).read(), re.M)
    else:
        continue  # a generated source built alone: nothing of ours in it
    ours = [s for s in sources if s.startswith(src) and not skip.search(s)]
    if not ours or (only and not any(re.search(only, s) for s in ours)):
        continue
    missing.update(s for s in sources if s.startswith(build + os.sep) and not os.path.exists(s))
    count += len(ours)
    (alone if unit.startswith(src) else merged).append((len(ours), unit))
alone.sort(key=lambda u: -os.path.getsize(u[1]))
merged.sort(key=lambda u: -u[0])
with open(os.path.join(work, "units"), "w") as f:
    f.writelines(unit + "\n" for _, unit in alone + merged)
with open(os.path.join(work, "generated"), "w") as f:
    f.writelines(os.path.relpath(s, build) + "\n" for s in sorted(missing))
with open(os.path.join(work, "sources"), "w") as f:
    f.write(f"{count}\n")
EOF
units=$(wc -l <"$work/units")
sources=$(cat "$work/sources")
if ((units == 0)); then
  echo "FAIL: no translation unit to check${only:+ matches $only}" >&2
  exit 1
fi
# Each by its own rule's command: `ninja <file>` would first build every library the target links.
while read -r generated; do
  if ! ninja -C "$work/build" -t commands -s "$generated" | bash >"$work/generate.log" 2>&1 ||
    [[ ! -e $work/build/$generated ]]; then
    cat "$work/generate.log"
    echo "FAIL: could not generate $generated" >&2
    exit 1
  fi
done <"$work/generated"

# Findings in src/ only (the command line's header filter replaces the configuration's, which
# would also match the generated sources under the temporary folder's src/).
# shellcheck disable=SC2001 # a bracket expression: every regex metacharacter of the path escaped
header_filter="^$(sed 's/[].[*^$+?(){}|\\]/\\&/g' <<<"$root")/src/"
check_unit() {
  local unit=$1 log start=$SECONDS
  log=$work/logs/$(tr / _ <<<"${unit#"$work"/}").log
  if ! nice -n "$niceness" "$clang_tidy" --quiet --config-file="$root/.clang-tidy" --warnings-as-errors='*' \
    --header-filter="$header_filter" -p "$work/build" "$unit" >"$log" 2>&1 ||
    grep -qE '(warning|error): ' "$log"; then
    echo "$unit" >>"$work/failed"
  fi
  echo "$((SECONDS - start))s ${unit#"$work"/build/}" >>"$work/times"
}
export -f check_unit
export work root clang_tidy niceness header_filter
# shellcheck disable=SC2016 # $1 is check_unit's argument, expanded by the inner bash
xargs -a "$work/units" -d '\n' -n 1 -P "$jobs" bash -c 'check_unit "$1"' _

failed=$(wc -l <"$work/failed")
slowest=$(sort -rn "$work/times" | head -n 1)
if ((failed > 0)); then
  while read -r unit; do
    cat "$work/logs/$(tr / _ <<<"${unit#"$work"/}").log"
  done <"$work/failed"
  echo "clang-tidy: FAIL: findings in $failed of $units translation units ($sources source files under src/ checked, ${SECONDS}s; slowest unit: $slowest)"
  exit 1
fi
echo "clang-tidy: OK: $sources source files under src/ checked in $units translation units, no findings (${SECONDS}s; slowest unit: $slowest)"
