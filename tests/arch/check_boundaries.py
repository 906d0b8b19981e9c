#!/usr/bin/env python3
"""Architecture test: module boundaries, read from the #includes and the CMake module list.

Fails when
  - a module includes another module's internals (anything but <other>/api.hpp or events.hpp),
    or reaches into src/modules by path (modules/..., src/modules/..., ../other/...);
  - a module includes <other>/module.hpp (only src/app may);
  - a module includes another module's headers without declaring it in DEPS;
  - an include/ header (api.hpp, events.hpp, module.hpp) of a module, or any core header,
    includes Beast/Asio, pqxx, SQLite or rabbitmq-c types;
  - a module's SQL names another module's table (FROM/JOIN/INTO/UPDATE/TABLE <other>_…): each
    module owns its tables, which on PostgreSQL live in the module's own schema (ADR 0012);
  - core includes any module header;
  - the module dependency graph has a cycle, or DEPS names a module that does not exist;
  - the module graph (docs/modules.json, the binary's `deliveryhub modules --json`) names other
    modules than src/modules holds, or a module's DEPS are not exactly the modules it calls plus
    the publishers of the events it consumes (DEPS is what the build lets it include).
Exceptions to the #include rules live in tests/arch/allowlist.txt (<including file> <included header>).
"""
import json
import os
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
src = root / "src"
modules_dir = src / "modules"
include_re = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
forbidden_in_headers = re.compile(r"^(boost/(beast|asio)|pqxx|sqlite3|amqp|rabbitmq)")

allow = set()
for line in (root / "tests/arch/allowlist.txt").read_text().splitlines():
    line = line.split("#", 1)[0].strip()  # a trailing "# reason" is a comment, not part of the entry
    if line and not line.startswith("#"):
        allow.add(tuple(line.split()))

modules = sorted(p.name for p in modules_dir.iterdir() if p.is_dir()) if modules_dir.exists() else []
deps = {}
add_re = re.compile(r"deliveryhub_add_module\(\s*(\w+)([^)]*)\)", re.S)
# Quoted arguments, bracket comments #[[...]] / #[==[...]==], and line comments, in CMake syntax.
cmake_token_re = re.compile(r'"(?:\\.|[^"\\])*"|#\[(=*)\[.*?\]\1\]|#[^\n]*', re.S)
add_module_keywords = ("DEPS", "LIBS")  # the multi-value keywords of deliveryhub_add_module


def strip_cmake_comments(text):
    return cmake_token_re.sub(lambda t: t.group(0) if t.group(0).startswith('"') else " ", text)


for m in modules:
    cml = modules_dir / m / "CMakeLists.txt"
    found = add_re.search(strip_cmake_comments(cml.read_text())) if cml.exists() else None
    if not found or found.group(1) != m:
        print(f"FAIL {cml.relative_to(root)}: must call deliveryhub_add_module({m} ...)")
        sys.exit(1)
    # As cmake_parse_arguments does: every argument after DEPS up to the next keyword, in any
    # order with LIBS, and a repeated DEPS adds to the list.
    listed = []
    keyword = None
    for a in found.group(2).split():
        if a in add_module_keywords:
            keyword = a
        elif keyword == "DEPS":
            listed.append(a.strip('"'))
    deps[m] = listed

failures = []

graph_file = root / "docs/modules.json"
if graph_file.exists():
    graph = json.loads(graph_file.read_text())["modules"]
    publisher = {event: m["name"] for m in graph for event in m["publishes"]}
    if sorted(m["name"] for m in graph) != modules:
        failures.append(f"docs/modules.json names modules {sorted(m['name'] for m in graph)}, src/modules holds "
                        f"{modules} (scripts/generate.sh)")
    for m in graph:
        if m["name"] not in deps:
            continue
        needed = set(m["calls"]) | {publisher.get(e, f"<no publisher of {e}>") for e in m["consumes"]}
        needed.discard(m["name"])
        if set(deps[m["name"]]) != needed:
            failures.append(f"src/modules/{m['name']}/CMakeLists.txt: DEPS {sorted(deps[m['name']])}, but the module "
                            f"calls and consumes events of {sorted(needed)} (docs/modules.json)")


def fail(path, message):
    failures.append(f"{path.relative_to(root)}: {message}")


def module_path(path, inc):
    """The parts of the path inside src/modules that an include names by path instead of by
    <module>/api.hpp: modules/<m>/..., src/modules/<m>/..., or a ../ path from the including
    file that climbs into src/modules. None for any other include."""
    if ".." in inc.split("/"):
        target = pathlib.Path(os.path.normpath(path.parent / inc))
    elif inc.startswith("modules/"):
        target = src / inc
    elif inc.startswith("src/modules/"):
        target = root / inc
    else:
        return None
    try:
        return target.relative_to(modules_dir).parts
    except ValueError:
        return None


def allowed(path, inc):
    return (str(path.relative_to(root)), inc) in allow


def sources(folder):
    for p in sorted(folder.rglob("*")):
        if p.suffix in (".hpp", ".cpp", ".h", ".ipp"):
            yield p


for m in modules:
    for path in sources(modules_dir / m):
        rel_in_module = path.relative_to(modules_dir / m)
        is_public_header = rel_in_module.parts[0] == "include"
        for inc in include_re.findall(path.read_text(errors="replace")):
            if allowed(path, inc):
                continue
            first = inc.split("/")[0]
            reached = module_path(path, inc)
            if inc.startswith("modules/") or (reached and reached[0] != m):
                fail(path, f"includes {inc}: reach other modules only through <module>/api.hpp or events.hpp")
            if first in modules and first != m:
                header = inc.split("/", 1)[1] if "/" in inc else ""
                if header not in ("api.hpp", "events.hpp"):
                    fail(path, f"includes {inc}: only {first}/api.hpp and {first}/events.hpp are public")
                elif first not in deps[m]:
                    fail(path, f"includes {inc} but {m}'s CMakeLists.txt does not list {first} in DEPS")
            if is_public_header and forbidden_in_headers.match(inc):
                fail(path, f"public header includes {inc}: no Beast/Asio/pqxx/SQLite/AMQP types in a module interface")

# SQL that names a table: the table's prefix is its owner's module name.
table_re = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|EXISTS|ON)\s+([a-z]+)_[a-z_]+", re.I)
for m in modules:
    for path in sources(modules_dir / m):
        for owner in table_re.findall(path.read_text(errors="replace")):
            if owner in modules and owner != m:
                fail(path, f"SQL names a table of module {owner}: read and change another module's data "
                           f"only through {owner}/api.hpp")

core = src / "core"
for path in sources(core):
    for inc in include_re.findall(path.read_text(errors="replace")):
        if allowed(path, inc):
            continue
        if inc.split("/")[0] in modules or module_path(path, inc) is not None:
            fail(path, f"core includes module header {inc}: core has no domain words")
        if path.suffix in (".hpp", ".h", ".ipp") and forbidden_in_headers.match(inc):
            fail(path, f"core header includes {inc}: keep Beast/SQLite/pqxx/AMQP inside .cpp files")

# Cycles in the declared dependency graph.
state = {}


def visit(node, stack):
    state[node] = "open"
    for d in deps.get(node, []):
        if d not in deps:
            failures.append(f"src/modules/{node}/CMakeLists.txt: DEPS names unknown module {d}")
        elif state.get(d) == "open":
            path = stack + [node]
            failures.append("module dependency cycle: " + " -> ".join(path[path.index(d):] + [d]))
        elif d not in state:
            visit(d, stack + [node])
    state[node] = "done"


for m in modules:
    if m not in state:
        visit(m, [])

checked = sum(1 for m in modules for _ in sources(modules_dir / m)) + sum(1 for _ in sources(core))
if failures:
    print("\n".join("FAIL " + f for f in failures))
    print(f"0 passed, {len(failures)} failed")
    sys.exit(1)
print(f"architecture: {len(modules)} modules, {checked} files checked, dependencies acyclic")
