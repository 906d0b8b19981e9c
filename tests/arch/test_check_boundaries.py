"""Self-test of check_boundaries.py: a check that cannot fail is worthless.

Each test builds a small fake repository in tmp_path (src/core, src/app, src/modules/<m>,
tests/arch/allowlist.txt), runs the checker on it as a subprocess and looks at the exit code and
the FAIL lines. The clean tree must pass; each single violation added to it must fail with
exactly one FAIL line that names the offending file; an allowlist entry must suppress exactly
its own (file, include) pair. Finally the checker must pass on this repository itself.
Stdlib and pytest only.
"""
import pathlib
import subprocess
import sys

import pytest

CHECKER = pathlib.Path(__file__).resolve().with_name("check_boundaries.py")
REPO = pathlib.Path(__file__).resolve().parents[2]

ALLOWLIST_HEADER = "# Exceptions to the boundary rules, one per line: <including file> <included header>.\n"


def write(root, rel, text):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def append(root, rel, text):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(text)


def cmake(name, deps=(), libs=()):
    text = f"deliveryhub_add_module({name}"
    if deps:
        text += " DEPS " + " ".join(deps)
    if libs:
        text += " LIBS " + " ".join(libs)
    return text + ")\n"


def add_module(root, name, deps=(), libs=()):
    base = f"src/modules/{name}"
    write(root, f"{base}/CMakeLists.txt", cmake(name, deps, libs))
    write(root, f"{base}/include/{name}/api.hpp", '#pragma once\n#include "core/log/log.hpp"\n#include <string>\n')
    write(root, f"{base}/include/{name}/events.hpp", f'#pragma once\n#include "{name}/api.hpp"\n')
    write(root, f"{base}/include/{name}/module.hpp",
          f'#pragma once\n#include "core/module/module.hpp"\n#include "{name}/api.hpp"\n')
    write(root, f"{base}/src/service.hpp", f'#pragma once\n#include "{name}/api.hpp"\n')
    write(root, f"{base}/src/repository.hpp", '#pragma once\n#include "service.hpp"\n')
    # Module implementation files may use Beast, SQLite, pqxx and AMQP freely.
    write(root, f"{base}/src/x.cpp",
          '#include "service.hpp"\n#include "repository.hpp"\n#include "core/http/router.hpp"\n'
          "#include <boost/beast/http.hpp>\n#include <sqlite3.h>\n#include <pqxx/pqxx>\n#include <amqp.h>\n")
    write(root, f"{base}/tests/service_test.cpp", '#include "service.hpp"\n#include <catch2/catch_test_macros.hpp>\n')


def make_tree(root):
    """A clean tree: modules a and b, a DEPS b and uses b's api.hpp and events.hpp."""
    write(root, "src/core/log/log.hpp", "#pragma once\n#include <string>\n")
    write(root, "src/core/log/log.cpp", '#include "core/log/log.hpp"\n#include <boost/asio/io_context.hpp>\n')
    write(root, "src/core/module/module.hpp", '#pragma once\n#include "core/log/log.hpp"\n')
    write(root, "src/core/http/router.hpp", '#pragma once\n#include "core/log/log.hpp"\n#include <functional>\n')
    # Core .cpp files may include Beast; only core headers may not.
    write(root, "src/core/http/server.cpp",
          '#include "core/http/router.hpp"\n#include <boost/beast/http.hpp>\n#include <sqlite3.h>\n')
    write(root, "src/core/CMakeLists.txt", "add_library(deliveryhub_core STATIC)\n")
    # Only the composition root may include module.hpp; the checker does not police src/app.
    write(root, "src/app/main.cpp", '#include "a/module.hpp"\n#include "b/module.hpp"\n')
    write(root, "src/modules/CMakeLists.txt", "add_subdirectory(a)\nadd_subdirectory(b)\n")
    add_module(root, "a", deps=["b"], libs=["PkgConfig::SODIUM", "OpenSSL::Crypto"])
    add_module(root, "b")
    append(root, "src/modules/a/src/x.cpp", '#include "b/api.hpp"\n#include "b/events.hpp"\n')
    append(root, "src/modules/a/include/a/events.hpp", '#include "b/events.hpp"\n')
    write(root, "tests/arch/allowlist.txt", ALLOWLIST_HEADER)
    return root


def run(root):
    proc = subprocess.run([sys.executable, str(CHECKER), str(root)], capture_output=True, text=True, timeout=60)
    return proc


def fail_lines(proc):
    return [line for line in proc.stdout.splitlines() if line.startswith("FAIL ")]


def assert_passes(proc):
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not fail_lines(proc), proc.stdout
    assert proc.stdout.startswith("architecture: "), proc.stdout


def assert_fails(proc, *expected, count=1):
    """Exit 1, exactly `count` FAIL lines, no traceback; each expected text appears in a FAIL line."""
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Traceback" not in proc.stderr, out
    lines = fail_lines(proc)
    assert len(lines) == count, out
    for text in expected:
        assert any(text in line for line in lines), f"{text!r} not in:\n{out}"
    return lines


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / "repo")


# --- the clean tree -------------------------------------------------------------------------

def test_clean_tree_passes(tree):
    proc = run(tree)
    assert_passes(proc)
    assert "2 modules" in proc.stdout


def test_checker_passes_on_this_repository():
    proc = run(REPO)
    assert_passes(proc)


# --- one violation at a time ----------------------------------------------------------------

A_SRC = "src/modules/a/src/x.cpp"
A_API = "src/modules/a/include/a/api.hpp"

MODULE_INCLUDE_VIOLATIONS = [
    # (included header, text the FAIL line must contain)
    ('"b/service.hpp"', "includes b/service.hpp: only b/api.hpp and b/events.hpp are public"),
    ("<b/service.hpp>", "includes b/service.hpp: only b/api.hpp and b/events.hpp are public"),
    ('"b/module.hpp"', "includes b/module.hpp: only b/api.hpp and b/events.hpp are public"),
    ('"b/detail/impl.hpp"', "includes b/detail/impl.hpp: only"),
    ('"modules/b/src/service.hpp"', "includes modules/b/src/service.hpp: reach other modules only through"),
    ('"modules/b/include/b/api.hpp"', "includes modules/b/include/b/api.hpp: reach other modules only through"),
    ('"src/modules/b/src/service.hpp"', "includes src/modules/b/src/service.hpp: reach other modules only through"),
    # {up} climbs from the including file's directory to src/modules/.
    ('"{up}b/src/service.hpp"', "includes {up}b/src/service.hpp: reach other modules only through"),
    ('"{up}b/include/b/module.hpp"', "includes {up}b/include/b/module.hpp: reach other modules only"),
]


@pytest.mark.parametrize("header, message", MODULE_INCLUDE_VIOLATIONS, ids=[h for h, _ in MODULE_INCLUDE_VIOLATIONS])
@pytest.mark.parametrize("where", [A_SRC, "src/modules/a/src/deep/inner.cpp", A_API, "src/modules/a/tests/service_test.cpp"])
def test_module_reaching_into_another_module_fails(tree, where, header, message):
    up = "../" * (len(pathlib.PurePosixPath(where).parts) - 3)
    header, message = header.format(up=up), message.format(up=up)
    append(tree, where, f"#include {header}\n")
    assert_fails(run(tree), f"FAIL {where}: {message}")


def test_module_may_include_its_own_headers_by_relative_path(tree):
    append(tree, A_SRC, '#include "../include/a/api.hpp"\n#include "./service.hpp"\n#include "../../../core/log/log.hpp"\n')
    write(tree, "src/modules/a/src/deep/inner.cpp", '#include "../service.hpp"\n#include "../../include/a/events.hpp"\n')
    assert_passes(run(tree))


def test_module_including_itself_through_modules_path_fails(tree):
    """modules/... is never the way to include a header, even the module's own."""
    append(tree, A_SRC, '#include "modules/a/src/service.hpp"\n')
    assert_fails(run(tree), f"FAIL {A_SRC}: includes modules/a/src/service.hpp: reach other modules only through")


@pytest.mark.parametrize("header", ["b/api.hpp", "b/events.hpp"])
def test_public_header_of_a_module_not_in_deps_fails(tree, header):
    append(tree, "src/modules/b/src/x.cpp", f'#include "{header}"\n#include "a/{header.split("/")[1]}"\n')
    assert_fails(run(tree), f"FAIL src/modules/b/src/x.cpp: includes a/{header.split('/')[1]} but b's CMakeLists.txt "
                            "does not list a in DEPS")


def test_dropping_deps_makes_every_use_fail(tree):
    write(tree, "src/modules/a/CMakeLists.txt", cmake("a", libs=["PkgConfig::SODIUM"]))
    assert_fails(run(tree), f"FAIL {A_SRC}: includes b/api.hpp but a's CMakeLists.txt does not list b in DEPS",
                 f"FAIL {A_SRC}: includes b/events.hpp but",
                 "FAIL src/modules/a/include/a/events.hpp: includes b/events.hpp but", count=3)


FORBIDDEN = ["<boost/beast/http.hpp>", "<boost/beast.hpp>", "<boost/asio/io_context.hpp>", "<boost/asio.hpp>",
             "<pqxx/pqxx>", "<sqlite3.h>", '"sqlite3.h"', "<amqp.h>", "<rabbitmq-c/amqp.h>"]


@pytest.mark.parametrize("header", FORBIDDEN)
@pytest.mark.parametrize("public", ["api.hpp", "events.hpp", "module.hpp"])
def test_infrastructure_type_in_module_public_header_fails(tree, public, header):
    path = f"src/modules/a/include/a/{public}"
    append(tree, path, f"#include {header}\n")
    assert_fails(run(tree), f"FAIL {path}: public header includes {header[1:-1]}: no Beast/Asio/pqxx/SQLite/AMQP")


@pytest.mark.parametrize("header", FORBIDDEN)
@pytest.mark.parametrize("path", ["src/core/http/router.hpp", "src/core/log/log.hpp", "src/core/db/sqlite.h"])
def test_infrastructure_type_in_core_header_fails(tree, path, header):
    append(tree, path, f"#include {header}\n")
    assert_fails(run(tree), f"FAIL {path}: core header includes {header[1:-1]}: keep Beast/SQLite/pqxx/AMQP inside .cpp")


def test_include_spacing_variants_are_seen(tree):
    append(tree, "src/core/http/router.hpp", "  #  include   <boost/beast/http.hpp>\n")
    assert_fails(run(tree), "FAIL src/core/http/router.hpp: core header includes boost/beast/http.hpp")


@pytest.mark.parametrize("header", ['"a/api.hpp"', "<b/events.hpp>", '"a/module.hpp"', '"b/service.hpp"',
                                    '"modules/a/include/a/api.hpp"', '"modules/b/src/service.hpp"',
                                    '"../../modules/a/src/service.hpp"'])
@pytest.mark.parametrize("path", ["src/core/log/log.cpp", "src/core/http/router.hpp"])
def test_core_including_a_module_header_fails(tree, path, header):
    append(tree, path, f"#include {header}\n")
    assert_fails(run(tree), f"FAIL {path}: core includes module header {header[1:-1]}: core has no domain words")


# --- the dependency graph -------------------------------------------------------------------

def test_two_module_cycle_fails(tree):
    write(tree, "src/modules/b/CMakeLists.txt", cmake("b", deps=["a"]))
    assert_fails(run(tree), "FAIL module dependency cycle: a -> b -> a")


def test_self_dependency_is_a_cycle(tree):
    write(tree, "src/modules/b/CMakeLists.txt", cmake("b", deps=["b"]))
    assert_fails(run(tree), "FAIL module dependency cycle: b -> b")


def test_three_module_cycle_fails(tree):
    add_module(tree, "c", deps=["a"])
    write(tree, "src/modules/b/CMakeLists.txt", cmake("b", deps=["c"]))
    assert_fails(run(tree), "FAIL module dependency cycle: a -> b -> c -> a")


def test_diamond_is_not_a_cycle(tree):
    add_module(tree, "c", deps=["b"])
    add_module(tree, "d", deps=["a", "c"])
    assert_passes(run(tree))


@pytest.mark.parametrize("ghost", ["ghost", "GHOST", "Ghost2"])
def test_deps_naming_unknown_module_fails(tree, ghost):
    write(tree, "src/modules/a/CMakeLists.txt", cmake("a", deps=["b", ghost], libs=["PkgConfig::SODIUM"]))
    assert_fails(run(tree), f"FAIL src/modules/a/CMakeLists.txt: DEPS names unknown module {ghost}")


@pytest.mark.parametrize("text", ["add_library(a STATIC src/x.cpp)\n", "deliveryhub_add_module(b DEPS b)\n",
                                  "# deliveryhub_add_module(a DEPS b)\n"])
def test_module_without_its_deliveryhub_add_module_call_fails(tree, text):
    write(tree, "src/modules/a/CMakeLists.txt", text)
    assert_fails(run(tree), "src/modules/a/CMakeLists.txt: must call deliveryhub_add_module(a ...)")


def test_module_directory_without_cmakelists_fails(tree):
    (tree / "src/modules/a/CMakeLists.txt").unlink()
    assert_fails(run(tree), "src/modules/a/CMakeLists.txt: must call deliveryhub_add_module(a ...)")


# --- DEPS parsing ---------------------------------------------------------------------------

def orders_tree(tree, cmakelists):
    """Modules customers, payments and orders; orders uses both public APIs."""
    add_module(tree, "customers")
    add_module(tree, "payments")
    add_module(tree, "orders")
    write(tree, "src/modules/orders/CMakeLists.txt", cmakelists)
    append(tree, "src/modules/orders/src/x.cpp", '#include "customers/api.hpp"\n#include "payments/events.hpp"\n')
    return tree


GOOD_ORDERS_CMAKELISTS = {
    "deps_then_libs": "deliveryhub_add_module(orders DEPS customers payments LIBS foo)\n",
    "libs_then_deps": "deliveryhub_add_module(orders LIBS PkgConfig::SODIUM OpenSSL::Crypto DEPS customers payments)\n",
    "uppercase_lib": "deliveryhub_add_module(orders DEPS customers payments LIBS SODIUM)\n",
    "multi_line": "deliveryhub_add_module(\n  orders\n  DEPS\n    customers\n    payments\n  LIBS\n    foo\n)\n",
    "repeated_deps": "deliveryhub_add_module(orders DEPS customers LIBS foo DEPS payments)\n",
    "comments": ("# Orders: deliveryhub_add_module(NAME [DEPS other modules...] [LIBS targets...])\n"
                 "#[[ old: deliveryhub_add_module(orders DEPS billing) ]]\n"
                 "deliveryhub_add_module(orders  # the orders module (checkout)\n"
                 "  DEPS customers  # who orders (api only)\n"
                 "       payments   # how they pay\n"
                 "  LIBS foo)       # DEPS ghost\n"),
    "commented_out_old_call": ("# deliveryhub_add_module(orders DEPS customers)\n"
                               "deliveryhub_add_module(orders DEPS customers payments)\n"),
}


@pytest.mark.parametrize("cmakelists", GOOD_ORDERS_CMAKELISTS.values(), ids=GOOD_ORDERS_CMAKELISTS.keys())
def test_deps_parsing_accepts_declared_dependencies(tree, cmakelists):
    assert_passes(run(orders_tree(tree, cmakelists)))


def test_libs_are_not_dependencies(tree):
    """A module named like a LIBS entry is not reachable through LIBS."""
    orders_tree(tree, "deliveryhub_add_module(orders DEPS customers LIBS payments)\n")
    assert_fails(run(tree), "FAIL src/modules/orders/src/x.cpp: includes payments/events.hpp but orders's "
                            "CMakeLists.txt does not list payments in DEPS")


def test_deps_after_libs_are_parsed_for_cycles(tree):
    orders_tree(tree, "deliveryhub_add_module(orders LIBS foo DEPS customers payments)\n")
    write(tree, "src/modules/payments/CMakeLists.txt", "deliveryhub_add_module(payments LIBS bar DEPS orders)\n")
    assert_fails(run(tree), "FAIL module dependency cycle: orders -> payments -> orders")


def test_commented_out_deps_do_not_count(tree):
    orders_tree(tree, "deliveryhub_add_module(orders DEPS customers # payments\n)\n")
    assert_fails(run(tree), "FAIL src/modules/orders/src/x.cpp: includes payments/events.hpp but orders's "
                            "CMakeLists.txt does not list payments in DEPS")


def test_comment_inside_the_call_is_not_a_dependency(tree):
    orders_tree(tree, "deliveryhub_add_module(orders\n  DEPS customers payments # see (docs) Ghost\n  LIBS foo)\n")
    assert_passes(run(tree))


# --- the allowlist --------------------------------------------------------------------------

def allow(tree, *entries):
    append(tree, "tests/arch/allowlist.txt", "".join(f"# reason\n{e}\n" for e in entries))


def test_allowlist_entry_suppresses_its_violation(tree):
    append(tree, A_SRC, '#include "b/service.hpp"\n')
    assert_fails(run(tree), f"FAIL {A_SRC}: includes b/service.hpp")
    allow(tree, f"{A_SRC} b/service.hpp")
    assert_passes(run(tree))


def test_allowlist_entry_suppresses_exactly_its_own_violation(tree):
    append(tree, A_SRC, '#include "b/service.hpp"\n#include "b/repository.hpp"\n')
    append(tree, "src/modules/a/src/other.cpp", '#include "b/service.hpp"\n')
    append(tree, "src/modules/b/src/x.cpp", '#include "a/service.hpp"\n')
    allow(tree, f"{A_SRC} b/service.hpp")
    lines = assert_fails(run(tree), f"FAIL {A_SRC}: includes b/repository.hpp",
                         "FAIL src/modules/a/src/other.cpp: includes b/service.hpp",
                         "FAIL src/modules/b/src/x.cpp: includes a/service.hpp", count=3)
    assert not any(line.startswith(f"FAIL {A_SRC}: includes b/service.hpp") for line in lines)


@pytest.mark.parametrize("path, header, message", [
    (A_API, "boost/beast/http.hpp", "public header includes boost/beast/http.hpp"),
    (A_SRC, "modules/b/src/service.hpp", "includes modules/b/src/service.hpp"),
    ("src/modules/b/src/x.cpp", "a/api.hpp", "includes a/api.hpp but b's CMakeLists.txt does not list a in DEPS"),
    ("src/core/http/router.hpp", "boost/beast/http.hpp", "core header includes boost/beast/http.hpp"),
    ("src/core/log/log.cpp", "a/api.hpp", "core includes module header a/api.hpp"),
])
def test_allowlist_applies_to_every_include_rule(tree, path, header, message):
    append(tree, path, f"#include <{header}>\n")
    assert_fails(run(tree), f"FAIL {path}: {message}")
    allow(tree, f"{path} {header}")
    assert_passes(run(tree))


def test_allowlist_entry_with_trailing_comment_works(tree):
    append(tree, A_SRC, '#include "b/service.hpp"\n')
    append(tree, "tests/arch/allowlist.txt", f"{A_SRC} b/service.hpp  # until the split lands\n")
    assert_passes(run(tree))


def test_allowlist_entry_for_another_header_does_not_suppress(tree):
    append(tree, A_SRC, '#include "b/service.hpp"\n')
    allow(tree, f"{A_SRC} b/repository.hpp", f"src/modules/a/src/other.cpp b/service.hpp")
    assert_fails(run(tree), f"FAIL {A_SRC}: includes b/service.hpp")


def test_allowlist_does_not_hide_cycles(tree):
    write(tree, "src/modules/b/CMakeLists.txt", cmake("b", deps=["a"]))
    allow(tree, "src/modules/b/CMakeLists.txt a", "module dependency cycle: a -> b -> a")
    assert_fails(run(tree), "FAIL module dependency cycle: a -> b -> a")


# --- output ---------------------------------------------------------------------------------

def test_failure_summary_counts_failures(tree):
    append(tree, A_SRC, '#include "b/service.hpp"\n')
    append(tree, "src/core/log/log.hpp", "#include <pqxx/pqxx>\n")
    proc = run(tree)
    assert_fails(proc, count=2)
    assert proc.stdout.splitlines()[-1] == "0 passed, 2 failed"



def test_sql_naming_another_modules_table_fails(tree):
    write(tree, "src/modules/a/src/repo.cpp",
          'const char* sql = "SELECT id FROM b_things JOIN a_items ON 1 = 1";\n')
    assert_fails(run(tree), "FAIL src/modules/a/src/repo.cpp: SQL names a table of module b")


def test_sql_naming_its_own_tables_passes(tree):
    write(tree, "src/modules/a/src/repo.cpp",
          'const char* sql = "INSERT INTO a_items (id) VALUES ($1); UPDATE a_items SET id = $1";\n')
    assert_passes(run(tree))


# --- the module graph (docs/modules.json) against DEPS and the folders -----------------------

def graph(*modules):
    import json
    return json.dumps({"modules": [
        {"name": name, "calls": calls, "publishes": publishes, "consumes": consumes}
        for name, calls, publishes, consumes in modules]})


def test_graph_agreeing_with_deps_passes(tree):
    # a calls nothing but consumes b's event: DEPS b is the publisher's.
    write(tree, "docs/modules.json", graph(("a", [], ["a.done"], ["b.done"]), ("b", [], ["b.done"], [])))
    assert_passes(run(tree))


def test_deps_wider_than_the_graph_fails(tree):
    write(tree, "docs/modules.json", graph(("a", [], [], []), ("b", [], [], [])))
    assert_fails(run(tree), "src/modules/a/CMakeLists.txt: DEPS ['b'], but the module calls and consumes events of []")


def test_a_call_the_deps_do_not_allow_fails(tree):
    write(tree, "docs/modules.json", graph(("a", ["b"], [], []), ("b", ["a"], [], [])))
    assert_fails(run(tree), "src/modules/b/CMakeLists.txt: DEPS [], but the module calls and consumes events of ['a']")


def test_a_graph_naming_other_modules_than_the_folders_fails(tree):
    write(tree, "docs/modules.json", graph(("a", ["b"], [], []), ("b", [], [], []), ("c", [], [], [])))
    assert_fails(run(tree), "docs/modules.json names modules ['a', 'b', 'c'], src/modules holds ['a', 'b']")
