"""tests/backup runs on the black-box harness of tests/integration: the Server class, and the
helpers of its test modules, which carry its shape markers. That folder's conftest is loaded here
as this one, so that `from conftest import …` in those modules finds it and its hooks register the
markers (--strict-markers included)."""
import importlib.util
import os
import sys

INTEGRATION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration")
sys.path.insert(0, INTEGRATION)
_spec = importlib.util.spec_from_file_location("integration_conftest", os.path.join(INTEGRATION, "conftest.py"))
_harness = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _harness
_spec.loader.exec_module(_harness)
globals().update({name: value for name, value in vars(_harness).items() if not name.startswith("__")})
