"""Marker lint for the black-box suites (tests/README.md, "Which shapes run a test").

Reads every tests/integration/test_*.py and tests/security/test_*.py with `ast` (nothing is
imported or started) and fails when a test function does something whose outcome depends on a
shape, but carries no reason marker that makes it run there:

  trigger in the test's own body                                   needs marker / one that runs in
  kill() / .kill()                                                 crash
  replica_of=                                                      replicas
  publish() / dead_letters() / rabbitmq() (test_amqp's helpers)    broker
  an Idempotency-Key header; threads (Thread, ThreadPoolExecutor,  postgresql
    Barrier) and a POST/PATCH/DELETE; a next_cursor read and sent
    back; psycopg2
  order_status_becomes() / incident_of() (waits for consumers)     amqp
  raw_exchange() / request_head(); MIB; a "TRACE" request;         split
    sending X-Request-Id, X-Forwarded-For or X-Deliveryhub-*;
    a .call() of an /internal/ route
  in_split() / on_postgres() / on_amqp() in an `if` or an          split / postgresql / amqp
    `assert` (a conditional expression that only picks the
    process to address or a deadline does not count)

Which marker runs in which shape is read from SHAPE_MARKERS in tests/integration/conftest.py.
A test marked `sqlite_only` never leaves the one-process run and a `single_process` one never
runs in the split shape, so their triggers for those shapes do not count. A test whose trigger
does not change what it asserts says so on the line before its `def` (or before its decorators):

    # shape-neutral: <why>

Markers count from the function's decorators and the module's `pytestmark`. Stdlib and pytest.
"""
import ast
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
CONFTEST = REPO / "tests" / "integration" / "conftest.py"
SUITES = (REPO / "tests" / "integration", REPO / "tests" / "security")
BUILTIN_MARKS = {"parametrize", "skip", "skipif", "xfail", "usefixtures", "filterwarnings"}
OPT_OUT = re.compile(r"^\s*#\s*shape-neutral:\s*\S")
SHAPE_CALLS = {"in_split": "split", "on_postgres": "postgresql", "on_amqp": "amqp"}
GATEWAY_HEADERS = re.compile(r"^(x-request-id|x-forwarded-for|x-deliveryhub-.*)$", re.I)
RAW_HEADER = re.compile(r"(?:^|\r\n)([A-Za-z0-9-]+):")


def shape_markers(conftest_source: str) -> dict:
    """{marker: shapes} from the SHAPE_MARKERS literal of the integration conftest."""
    for node in ast.parse(conftest_source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SHAPE_MARKERS" for t in node.targets):
            return {name: set(shapes) for name, (shapes, _meaning) in ast.literal_eval(node.value).items()}
    raise AssertionError("SHAPE_MARKERS not found in tests/integration/conftest.py")


def mark_names(node) -> set:
    """Marker names in a decorator or a pytestmark value: pytest.mark.x, pytest.mark.x(...), and the
    conftest's skip marks by name (single_process, sqlite_only, postgres_only)."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return set().union(*(mark_names(e) for e in node.elts))
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "mark":
        return {node.attr}
    if isinstance(node, ast.Name):
        return {node.id}
    return set()


def text_of(node) -> str | None:
    """A string (or bytes) constant, or the literal parts of an f-string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        return node.value if isinstance(node.value, str) else node.value.decode("latin-1")
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def triggers(fn) -> list:
    """[(what, shape or marker)] that the function's body does."""
    found = []
    compared = {id(n) for c in ast.walk(fn) if isinstance(c, ast.Compare) for n in ast.walk(c)}
    sent_headers, threads, writes = set(), None, False
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            writes |= name == "call" and bool(node.args) and text_of(node.args[0]) in ("POST", "PATCH", "DELETE")
            if name == "kill":
                found.append(("kill()", "crash"))
            elif name in ("publish", "dead_letters", "rabbitmq"):
                found.append((f"{name}()", "broker"))
            elif name in ("order_status_becomes", "incident_of"):
                found.append((f"{name}()", "amqp"))
            elif name in ("raw_exchange", "request_head"):
                found.append((f"{name}()", "split"))
            elif name == "call" and len(node.args) > 1 and (text_of(node.args[1]) or "").startswith("/internal/"):
                found.append(("a call of an /internal/ route", "split"))
            if any(k.arg == "replica_of" for k in node.keywords):
                found.append(("replica_of=", "replicas"))
        elif isinstance(node, (ast.Name, ast.Attribute)):
            name = getattr(node, "id", None) or node.attr
            if name in ("Thread", "ThreadPoolExecutor", "Barrier"):
                threads = name
            elif name == "psycopg2":
                found.append(("psycopg2", "postgresql"))
            elif name == "MIB":
                found.append(("MIB (a body at the gateway's limit)", "split"))
        elif isinstance(node, ast.Dict):
            sent_headers |= {text_of(k) for k in node.keys if k is not None and text_of(k)}
            if any(k is not None and text_of(k) == "Idempotency-Key" for k in node.keys):
                found.append(("an Idempotency-Key header", "postgresql"))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and text_of(node.slice):
            sent_headers.add(text_of(node.slice))
        elif isinstance(node, ast.Subscript) and text_of(node.slice) == "next_cursor" and id(node) not in compared:
            found.append(("a next_cursor followed", "postgresql"))
        elif isinstance(node, (ast.If, ast.Assert)):
            for call in ast.walk(node.test):
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) in SHAPE_CALLS:
                    found.append((f"{call.func.id}() in an {'if' if isinstance(node, ast.If) else 'assert'}",
                                  SHAPE_CALLS[call.func.id]))
        elif isinstance(node, ast.Constant) and text_of(node) is not None:  # f-strings' parts too
            if node.value == "TRACE":
                found.append(('a "TRACE" request', "split"))
            if "\r\n" in text_of(node):  # a request head written by hand
                sent_headers |= set(RAW_HEADER.findall(text_of(node)))
    found += [(f"sending {h}", "split") for h in sorted(sent_headers) if GATEWAY_HEADERS.match(h)]
    if threads and writes:
        found.append((f"concurrent writes ({threads} and a POST, PATCH or DELETE)", "postgresql"))
    return found


def opted_out(lines: list, fn) -> bool:
    first = min([d.lineno for d in fn.decorator_list] + [fn.lineno])
    return any(OPT_OUT.match(lines[line - 2]) for line in {first, fn.lineno} if line >= 2)


def violations(source: str, filename: str, markers: dict) -> list:
    """One line per unregistered marker and per trigger without a marker that runs where it must."""
    tree = ast.parse(source, filename)
    lines = source.splitlines()
    module_marks = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pytestmark" for t in node.targets):
            module_marks |= mark_names(node.value)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "mark" \
                and node.attr not in BUILTIN_MARKS and node.attr not in markers:
            out.append(f"{filename}:{node.lineno}: pytest.mark.{node.attr} is not a registered marker")
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef) or not fn.name.startswith("test") or opted_out(lines, fn):
            continue
        marks = module_marks | set().union(*(mark_names(d) for d in fn.decorator_list))
        if "sqlite_only" in marks:
            continue  # never leaves the one-process run
        runs_in = set().union(*(markers[m] for m in marks if m in markers))
        for what, need in triggers(fn):
            if need in markers:  # one marker in particular
                if need not in marks:
                    out.append(f"{filename}:{fn.lineno}: {fn.name}: {what} needs {need}")
            elif need not in runs_in and not (need == "split" and "single_process" in marks):
                wanted = ", ".join(m for m, shapes in markers.items() if need in shapes)
                out.append(f"{filename}:{fn.lineno}: {fn.name}: {what} needs a marker that runs in {need} "
                           f"({wanted}), or '# shape-neutral: <why>' above it")
    return sorted(set(out))


MARKERS = shape_markers(CONFTEST.read_text())


def test_the_suites_mark_what_their_assertions_depend_on():
    found = []
    for suite in SUITES:
        for path in sorted(suite.glob("test_*.py")):
            found += violations(path.read_text(), str(path.relative_to(REPO)), MARKERS)
    assert not found, "\n".join(found)


# The lint's own checks: a lint that cannot fail is worthless.
def source(*body, above=()):
    return "\n".join(["import pytest", "", *above, "def test_x(server, page):", *("    " + b for b in body)]) + "\n"


KILL = "server.kill()"
RAW = "server.raw_exchange(b'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')"
IDEMPOTENT = "server.call('POST', '/', headers={'Idempotency-Key': 'k'})"
SPLIT_ONLY = ["if in_split():", "    assert server"]
POOL = "with ThreadPoolExecutor(4) as pool:"


@pytest.mark.parametrize("text,expected", [
    (source(KILL), ["kill() needs crash"]),
    (source(KILL, above=["@pytest.mark.crash"]), []),
    (source(KILL, above=["# shape-neutral: only a liveness probe"]), []),
    (source(KILL, above=["@pytest.mark.crsh"]), ["not a registered marker", "kill() needs crash"]),
    (source(*SPLIT_ONLY), ["in_split() in an if needs a marker that runs in split"]),
    (source(*SPLIT_ONLY, above=["pytestmark = [pytest.mark.gateway]", ""]), []),
    (source("target = server.process('customers') if in_split() else server"), []),
    (source(RAW), ["raw_exchange() needs a marker that runs in split"]),
    (source(RAW, above=["@single_process"]), []),
    (source(IDEMPOTENT, above=["@pytest.mark.bus"]), ["an Idempotency-Key header needs a marker that runs in post"]),
    (source(IDEMPOTENT, above=["@pytest.mark.replicas"]), []),
    (source(IDEMPOTENT, above=["@sqlite_only"]), []),
    (source("assert server.call('GET', '/')['next_cursor'] is None"), []),
    (source("server.call('GET', '/?cursor=' + page['next_cursor'])"), ["a next_cursor followed needs"]),
    (source(POOL, "    pool.map(lambda _: server.call('GET', '/'), range(9))"), []),
    (source(POOL, "    pool.map(lambda _: server.call('POST', '/'), range(9))"), ["concurrent writes"]),
    (source("server.call('GET', '/', headers={'X-Request-Id': 'r'})"), ["sending X-Request-Id needs"]),
    (source("server.call('POST', '/internal/v1/x')"), ["an /internal/ route needs a marker that runs in split"]),
])
def test_the_lint_finds_what_it_should(text, expected):
    found = violations(text, "t.py", MARKERS)
    assert len(found) == len(expected) and all(any(want in line for line in found) for want in expected), found
