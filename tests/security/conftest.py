"""Reuses the integration suite's harness (tests/integration/conftest.py) for tests/security.

That file is loaded once more under its own module name, `deliveryhub_integration_conftest`, so
it never clashes with this file (pytest imports both as `conftest`). Its public names (`Server`,
`assert_problem`, the `server` and `make_server` fixtures, ...) are re-exported here, so
`from conftest import X` keeps working whichever of the two conftests pytest imported last.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import tempfile

import hypothesis.configuration

# Hypothesis keeps caches under ./.hypothesis by default; keep the checkout clean.
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    hypothesis.configuration.set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "deliveryhub-hypothesis"))

_INTEGRATION = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration")
_NAME = "deliveryhub_integration_conftest"

if _NAME not in sys.modules:
    if _INTEGRATION not in sys.path:
        sys.path.append(_INTEGRATION)  # split_shape.py, imported lazily by the harness
    _spec = importlib.util.spec_from_file_location(_NAME, os.path.join(_INTEGRATION, "conftest.py"))
    _module = importlib.util.module_from_spec(_spec)
    sys.modules[_NAME] = _module
    _spec.loader.exec_module(_module)

globals().update({k: v for k, v in vars(sys.modules[_NAME]).items()
                  if not k.startswith("_") and k not in {"annotations"}})


def pytest_terminal_summary(terminalreporter, config):
    """Known findings the fuzz met, statuses it saw that docs/openapi.yaml does not declare for
    the operation (notes, not failures), and with DELIVERYHUB_FUZZ_VERBOSE=1 every status seen."""
    for reason, reports in (getattr(config, "_deliveryhub_fuzz_known", None) or {}).items():
        terminalreporter.section("openapi fuzz: known finding (strict xfail test of its own)")
        terminalreporter.write_line(f"{len(reports)}x {reason}")
        terminalreporter.write_line(f"first: {reports[0][:1500]}")
    cut = getattr(config, "_deliveryhub_fuzz_cut", None)
    if cut:
        terminalreporter.section("openapi fuzz: examples skipped by the time budget (DELIVERYHUB_FUZZ_SECONDS)")
        terminalreporter.write_line(", ".join(f"{op} {n}" for op, n in sorted(cut.items())))
    seen = getattr(config, "_deliveryhub_fuzz_seen", None)
    if not seen:
        return
    verbose = os.environ.get("DELIVERYHUB_FUZZ_VERBOSE") == "1"
    lines = []
    for op_id in sorted(seen):
        statuses = seen[op_id]
        undeclared = sorted(s for s, declared in statuses.items() if not declared[0])
        if verbose or undeclared:
            counts = " ".join(f"{s}x{declared[1]}" for s, declared in sorted(statuses.items()))
            extra = f"  (not declared: {', '.join(map(str, undeclared))})" if undeclared else ""
            lines.append(f"{op_id}: {counts}{extra}")
            for status in undeclared:
                lines.append(f"    first {status}: {statuses[status][2][:700]}")
    if lines:
        terminalreporter.section("openapi fuzz: statuses per operation")
        for line in lines:
            terminalreporter.write_line(line)
