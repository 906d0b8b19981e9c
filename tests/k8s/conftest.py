"""Session fixtures of the policy tests: every variant rendered once, and the files they are
checked against. PyYAML (Debian's python3-yaml) reads the YAML."""
import json
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from renders import ROOT, render, render_cluster, variants  # noqa: E402

sys.path.insert(0, str(ROOT / "tools/k8s"))
import cluster_settings  # noqa: E402
import generate  # noqa: E402


@pytest.fixture(scope="session")
def renders() -> dict[tuple[str, ...], list[dict]]:
    return {variant: render(variant) for variant in variants()}


@pytest.fixture(scope="session")
def cluster_render() -> list[dict]:
    """k8s/cluster: the Namespace and the backup claim, applied once beside every overlay."""
    return render_cluster()


@pytest.fixture(scope="session")
def settings() -> dict[str, str]:
    """The cluster's settings as committed (k8s/cluster/settings/settings.env)."""
    return cluster_settings.read()


@pytest.fixture(scope="session")
def graph() -> dict:
    """The module graph the binary prints (`deliveryhub modules --json`), as committed."""
    return json.loads((ROOT / "docs/modules.json").read_text())


@pytest.fixture(scope="session")
def spec(graph) -> dict:
    """k8s/modules.yaml's sizing with the graph's edges and routes, as the generator reads them."""
    return generate.merge(yaml.safe_load((ROOT / "k8s/modules.yaml").read_text()), graph)


@pytest.fixture(scope="session")
def nginx_template() -> str:
    return (ROOT / "config/nginx/deliveryhub-routes.conf.template").read_text()


@pytest.fixture(scope="session")
def secret_template() -> dict:
    return yaml.safe_load((ROOT / "k8s/base/secret.template.yaml").read_text())
