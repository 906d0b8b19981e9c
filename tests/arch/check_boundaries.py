#!/usr/bin/env python3
"""Architecture test: module boundaries, read from the #includes and the CMake module list.

Fails when
  - a module includes another module's internals (anything but <other>/api.hpp or events.hpp);
  - a module includes <other>/module.hpp (only src/app may);
  - a module includes another module's headers without declaring it in DEPS;
  - an include/ header (api.hpp, events.hpp, module.hpp) of a module, or any core header,
    includes Beast/Asio, pqxx, SQLite or rabbitmq-c types;
  - core includes any module header;
  - the module dependency graph has a cycle.
Exceptions live in tests/arch/allowlist.txt.
"""
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
    line = line.strip()
    if line and not line.startswith("#"):
        allow.add(tuple(line.split()))

modules = sorted(p.name for p in modules_dir.iterdir() if p.is_dir()) if modules_dir.exists() else []
deps = {}
add_re = re.compile(r"deliveryhub_add_module\(\s*(\w+)([^)]*)\)", re.S)
for m in modules:
    cml = modules_dir / m / "CMakeLists.txt"
    found = add_re.search(cml.read_text()) if cml.exists() else None
    if not found or found.group(1) != m:
        print(f"FAIL {cml}: must call deliveryhub_add_module({m} ...)")
        sys.exit(1)
    args = found.group(2).split()
    listed = []
    if "DEPS" in args:
        for a in args[args.index("DEPS") + 1:]:
            if a.isupper():
                break
            listed.append(a)
    deps[m] = listed

failures = []


def fail(path, message):
    failures.append(f"{path.relative_to(root)}: {message}")


def sources(folder):
    for p in sorted(folder.rglob("*")):
        if p.suffix in (".hpp", ".cpp", ".h", ".ipp"):
            yield p


for m in modules:
    for path in sources(modules_dir / m):
        rel_in_module = path.relative_to(modules_dir / m)
        is_public_header = rel_in_module.parts[0] == "include"
        for inc in include_re.findall(path.read_text(errors="replace")):
            if (str(path.relative_to(root)), inc) in allow:
                continue
            first = inc.split("/")[0]
            if inc.startswith("modules/"):
                fail(path, f"includes {inc}: reach other modules only through <module>/api.hpp or events.hpp")
            if first in modules and first != m:
                header = inc.split("/", 1)[1] if "/" in inc else ""
                if header not in ("api.hpp", "events.hpp"):
                    fail(path, f"includes {inc}: only {first}/api.hpp and {first}/events.hpp are public")
                elif first not in deps[m]:
                    fail(path, f"includes {inc} but {m}'s CMakeLists.txt does not list {first} in DEPS")
            if is_public_header and forbidden_in_headers.match(inc):
                fail(path, f"public header includes {inc}: no Beast/Asio/pqxx/SQLite/AMQP types in a module interface")

core = src / "core"
for path in sources(core):
    for inc in include_re.findall(path.read_text(errors="replace")):
        if inc.split("/")[0] in modules:
            fail(path, f"core includes module header {inc}: core has no domain words")
        if path.suffix == ".hpp" and forbidden_in_headers.match(inc):
            fail(path, f"core header includes {inc}: keep Beast/SQLite/pqxx/AMQP inside .cpp files")

# Cycles in the declared dependency graph.
state = {}


def visit(node, stack):
    state[node] = "open"
    for d in deps.get(node, []):
        if d not in deps:
            failures.append(f"src/modules/{node}/CMakeLists.txt: DEPS names unknown module {d}")
        elif state.get(d) == "open":
            failures.append("module dependency cycle: " + " -> ".join(stack + [node, d]))
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
