"""Policy checks over rendered Kubernetes objects (lists of dicts, as yaml.safe_load_all gives).

Each check returns a list of violations, one readable line each; [] means the objects comply.
test_policies.py applies them to every rendered variant; test_policy_checks.py feeds each one a
broken object to show that it can fail.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools/k8s"))
import cluster_settings  # noqa: E402  (the checks of k8s/cluster/settings/settings.env)

NAME = "app.kubernetes.io/name"
COMPONENT = "app.kubernetes.io/component"
WORKLOADS = ("Deployment", "StatefulSet", "Job")
PORT = 8080


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o.get("kind") == kind]


def named(objects: list[dict], kind: str, name: str) -> dict | None:
    return next((o for o in of_kind(objects, kind) if o["metadata"]["name"] == name), None)


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def containers(workload: dict) -> list[dict]:
    spec = pod_spec(workload)
    return spec.get("initContainers", []) + spec["containers"]


def where(workload: dict, container: dict) -> str:
    return f"{workload['kind']} {workload['metadata']['name']}, container {container['name']}"


def is_deliveryhub(container: dict) -> bool:
    return "deliveryhub" in container["image"].rsplit("/", 1)[-1].split(":")[0]


def matches(selector: dict, labels: dict) -> bool:
    """Kubernetes label-selector semantics: matchLabels and matchExpressions, all must hold."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        present, value = e["key"] in labels, labels.get(e["key"])
        ok = {"In": present and value in e.get("values", []),
              "NotIn": not present or value not in e.get("values", []),
              "Exists": present, "DoesNotExist": not present}[e["operator"]]
        if not ok:
            return False
    return True


# --- containers -----------------------------------------------------------------------------

def image_problem(image: str) -> str | None:
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag"
    if last.split(":", 1)[1] == "latest":
        return "is tagged latest"
    return None


def container_violations(objects: list[dict]) -> list[str]:
    """Probes, resources, Pod Security "restricted", pinned images: every container of every
    workload. A Job's container runs to completion, so it has no probes."""
    out = []
    for w in [o for o in objects if o.get("kind") in WORKLOADS]:
        pod_sc = pod_spec(w).get("securityContext", {})
        for c in containers(w):
            at = where(w, c)
            sc = c.get("securityContext", {})
            effective = lambda key: sc.get(key, pod_sc.get(key))  # noqa: E731
            if w["kind"] != "Job":
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    if probe not in c:
                        out.append(f"{at}: no {probe}")
            if is_deliveryhub(c) and w["kind"] != "Job":
                live = c.get("livenessProbe", {}).get("httpGet", {}).get("path")
                if live != "/livez":
                    out.append(f"{at}: liveness is {live!r}, not /livez (it must depend on nothing else)")
                if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
                    out.append(f"{at}: readiness is not /readyz")
                if "preStop" not in c.get("lifecycle", {}):
                    out.append(f"{at}: no preStop")
                # The operations port (--metrics-listen) answers probes on threads of its own,
                # from before the database is reached; the API port's workers may all be busy
                # (ADR 0041).
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    port = c.get(probe, {}).get("httpGet", {}).get("port")
                    if probe in c and port != "metrics":
                        out.append(f"{at}: {probe} asks port {port!r}, not the operations port `metrics`")
            if is_deliveryhub(c) and sc.get("readOnlyRootFilesystem") is not True:
                out.append(f"{at}: root filesystem not read-only")
            if effective("runAsNonRoot") is not True:
                out.append(f"{at}: runAsNonRoot is not true")
            if effective("runAsUser") == 0:
                out.append(f"{at}: runs as uid 0")
            out += container_hardening_violations(c, pod_sc, at)
    return out


def container_hardening_violations(c: dict, pod_sc: dict, at: str) -> list[str]:
    """What every container must have, whoever it runs as: requests and limits for CPU and
    memory, no privilege escalation, every capability dropped and none added, the runtime's
    seccomp profile, and an image pinned as image_problem wants."""
    out = []
    sc = c.get("securityContext", {})
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if resource not in c.get("resources", {}).get(kind, {}):
                out.append(f"{at}: no {resource} in resources.{kind}")
    if sc.get("allowPrivilegeEscalation") is not False:
        out.append(f"{at}: allowPrivilegeEscalation is not false")
    if "ALL" not in sc.get("capabilities", {}).get("drop", []):
        out.append(f"{at}: capabilities do not drop ALL")
    if sc.get("capabilities", {}).get("add"):
        out.append(f"{at}: adds capabilities")
    if (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        out.append(f"{at}: seccompProfile is not RuntimeDefault")
    problem = image_problem(c["image"])
    if problem:
        out.append(f"{at}: image {c['image']} {problem}")
    return out


# --- workloads ------------------------------------------------------------------------------

def pdb_violations(objects: list[dict], namespace: str = "deliveryhub") -> list[str]:
    """Every Deployment, and every StatefulSet of `namespace` (the stores), has a
    PodDisruptionBudget that selects its pods. Every budget lets a pod that is not ready be evicted
    (unhealthyPodEvictionPolicy: AlwaysAllow): a crashing pod must never block a drain. A
    StatefulSet of one replica gets maxUnavailable 0 (ADR 0040): a drain, a node upgrade or the
    autoscaler must not stop the only server unannounced; moving it is done by hand."""
    out = []
    budgets = of_kind(objects, "PodDisruptionBudget")
    for w in [o for o in objects if o.get("kind") == "Deployment" or (
            o.get("kind") == "StatefulSet" and o["metadata"].get("namespace", namespace) == namespace)]:
        labels = w["spec"]["template"]["metadata"]["labels"]
        selecting = [p for p in budgets if matches(p["spec"]["selector"], labels)]
        if not selecting:
            out.append(f"{w['kind']} {w['metadata']['name']}: no PodDisruptionBudget selects its pods")
        if w["kind"] == "StatefulSet" and w["spec"].get("replicas", 1) == 1:
            for p in selecting:
                if p["spec"].get("maxUnavailable") != 0:
                    out.append(f"PodDisruptionBudget {p['metadata']['name']}: the one pod of StatefulSet "
                               f"{w['metadata']['name']} may be evicted (maxUnavailable "
                               f"{p['spec'].get('maxUnavailable')}, minAvailable {p['spec'].get('minAvailable')}), "
                               "not 0")
    for p in budgets:
        if p["spec"].get("unhealthyPodEvictionPolicy") != "AlwaysAllow":
            out.append(f"PodDisruptionBudget {p['metadata']['name']}: unhealthyPodEvictionPolicy is "
                       f"{p['spec'].get('unhealthyPodEvictionPolicy')!r}, not AlwaysAllow: a pod that is not "
                       "ready could block a drain")
    return out


def config_value(objects: list[dict], container: dict, name: str) -> str | None:
    for e in container.get("env", []):
        if e["name"] == name and "value" in e:
            return e["value"]
    for source in container.get("envFrom", []):
        cm = named(objects, "ConfigMap", source.get("configMapRef", {}).get("name", ""))
        if cm and name in cm.get("data", {}):
            return cm["data"][name]
    return None


def grace_violations(objects: list[dict], margin: int = 5) -> list[str]:
    """terminationGracePeriodSeconds covers the preStop sleep, the server's drain
    (DELIVERYHUB_SHUTDOWN_GRACE, default 10) and a margin; otherwise SIGKILL cuts the drain."""
    out = []
    for d in of_kind(objects, "Deployment"):
        grace_period = pod_spec(d).get("terminationGracePeriodSeconds", 30)
        for c in [c for c in containers(d) if is_deliveryhub(c)]:
            pre_stop = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
            drain = int(config_value(objects, c, "DELIVERYHUB_SHUTDOWN_GRACE") or 10)
            if grace_period < pre_stop + drain + margin:
                out.append(f"{where(d, c)}: terminationGracePeriodSeconds {grace_period} < preStop {pre_stop}"
                           f" + drain {drain} + margin {margin}")
    return out


def hpa_violations(objects: list[dict], expected: dict[str, dict], container: str = "deliveryhub") -> list[str]:
    """Every HPA scales a Deployment of the render, that Deployment leaves `replicas` to it, and
    `expected` (module -> settings from k8s/modules.yaml) has exactly the HPAs it says. Each metric
    is the ContainerResource of the app `container` (ADR 0040): a Resource metric averages the
    whole pod, Istio's sidecar included."""
    out = []
    hpas = {h["metadata"]["name"]: h for h in of_kind(objects, "HorizontalPodAutoscaler")}
    for name, h in hpas.items():
        ref = h["spec"]["scaleTargetRef"]
        target = named(objects, ref["kind"], ref["name"])
        if target is None:
            out.append(f"HPA {name}: target {ref['kind']} {ref['name']} is not in the render")
        elif "replicas" in target["spec"]:
            out.append(f"HPA {name}: {ref['kind']} {ref['name']} sets replicas, which each apply would reset")
        behavior = h["spec"].get("behavior", {}).get("scaleDown", {})
        if "stabilizationWindowSeconds" not in behavior or not behavior.get("policies"):
            out.append(f"HPA {name}: no scale-down stabilization window and rate policy")
        want = expected.get(name)
        if want is None:
            out.append(f"HPA {name}: not asked for by k8s/modules.yaml")
            continue
        got = {}
        for m in h["spec"]["metrics"]:
            source = m.get("containerResource", {})
            if m.get("type") != "ContainerResource" or source.get("container") != container:
                out.append(f"HPA {name}: a {m.get('type')} metric of {source.get('container', 'the whole pod')}, "
                           f"not the ContainerResource of container {container}: a sidecar would count")
                continue
            got[source["name"]] = source["target"]["averageUtilization"]
        if (h["spec"]["minReplicas"], h["spec"]["maxReplicas"], got) != (
                want["min"], want["max"], {"cpu": want["cpu"], "memory": want["memory"]}):
            out.append(f"HPA {name}: {h['spec']['minReplicas']}..{h['spec']['maxReplicas']} {got} is not {want}")
    for name in expected:
        if name not in hpas:
            out.append(f"HPA {name}: missing")
    return out


def go_duration_seconds(text: str) -> float | None:
    """A Go/protobuf duration as Istio reads it ("20s", "1m30s", "500ms"); None when malformed."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * scale[u] for n, u in parts)


def sidecar_drain_violations(objects: list[dict]) -> list[str]:
    """In the mesh: every Deployment's pod sets the Istio sidecar's terminationDrainDuration
    (annotation proxy.istio.io/config) longer than the app's preStop sleep plus its drain
    (DELIVERYHUB_SHUTDOWN_GRACE) and within terminationGracePeriodSeconds. The sidecar gets
    SIGTERM when the pod is deleted, the app only after its preStop; with Istio's default 5 s the
    sidecar would exit while the app still serves."""
    out = []
    for d in of_kind(objects, "Deployment"):
        name = f"Deployment {d['metadata']['name']}"
        raw = d["spec"]["template"]["metadata"].get("annotations", {}).get("proxy.istio.io/config")
        if raw is None:
            out.append(f"{name}: no proxy.istio.io/config: the sidecar drains for Istio's default 5 s")
            continue
        try:
            config = yaml.safe_load(raw)
        except yaml.YAMLError:
            config = None
        value = config.get("terminationDrainDuration") if isinstance(config, dict) else None
        drain_sidecar = go_duration_seconds(str(value)) if value is not None else None
        if drain_sidecar is None:
            out.append(f"{name}: proxy.istio.io/config sets no valid terminationDrainDuration: {raw!r}")
            continue
        grace_period = pod_spec(d).get("terminationGracePeriodSeconds", 30)
        for c in [c for c in containers(d) if is_deliveryhub(c)]:
            pre_stop = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
            drain = int(config_value(objects, c, "DELIVERYHUB_SHUTDOWN_GRACE") or 10)
            if drain_sidecar <= pre_stop + drain:
                out.append(f"{where(d, c)}: the sidecar drains {drain_sidecar:g} s, not longer than preStop "
                           f"{pre_stop} + drain {drain}")
        if drain_sidecar > grace_period:
            out.append(f"{name}: the sidecar drains {drain_sidecar:g} s, beyond terminationGracePeriodSeconds "
                       f"{grace_period}")
    return out


def topology_spread_violations(objects: list[dict]) -> list[str]:
    """Every Deployment spreads its own pods across nodes, and leaves out of the skew the nodes
    whose taints it does not tolerate (nodeTaintsPolicy: Honor): otherwise a cordoned node being
    drained counts as an empty domain and keeps the evicted pods Pending."""
    out = []
    for d in of_kind(objects, "Deployment"):
        labels = d["spec"]["template"]["metadata"]["labels"]
        spread = [t for t in pod_spec(d).get("topologySpreadConstraints", [])
                  if t.get("topologyKey") == "kubernetes.io/hostname" and matches(t.get("labelSelector", {}), labels)]
        if not spread:
            out.append(f"Deployment {d['metadata']['name']}: its pods are not spread across nodes")
        for t in spread:
            if t.get("nodeTaintsPolicy") != "Honor":
                out.append(f"Deployment {d['metadata']['name']}: nodeTaintsPolicy is {t.get('nodeTaintsPolicy')!r}, "
                           "not Honor: tainted and cordoned nodes count in the skew")
    return out


def jwt_key_violations(objects: list[dict]) -> list[str]:
    """A pod that signs tokens (DELIVERYHUB_JWT_KEY_FILE) also names a verify key
    (DELIVERYHUB_JWT_VERIFY_KEY_FILES), so that a rotation keeps two keys in the JWKS; each key
    file is an item of a Secret volume mounted in the container, and the verify key is another
    Secret key than the signing key (else the two could never differ)."""
    out = []
    for w in [o for o in objects if o.get("kind") == "Deployment"]:
        volumes = {v["name"]: v for v in pod_spec(w).get("volumes", [])}
        for c in [c for c in containers(w) if is_deliveryhub(c)]:
            signing = config_value(objects, c, "DELIVERYHUB_JWT_KEY_FILE")
            if not signing:
                continue
            files = {}  # path in the container -> (Secret, key)
            for mount in c.get("volumeMounts", []):
                secret = volumes.get(mount["name"], {}).get("secret")
                for item in (secret or {}).get("items", []):
                    files[mount["mountPath"].rstrip("/") + "/" + item["path"]] = (secret["secretName"], item["key"])
            verify = [p.strip() for p in (config_value(objects, c, "DELIVERYHUB_JWT_VERIFY_KEY_FILES") or "").split(",")
                      if p.strip()]
            if not verify:
                out.append(f"{where(w, c)}: signs tokens but sets no DELIVERYHUB_JWT_VERIFY_KEY_FILES")
            for path in [signing, *verify]:
                if path not in files:
                    out.append(f"{where(w, c)}: {path} is not a file of a Secret volume mounted there")
            for path in verify:
                if path in files and files[path] == files.get(signing):
                    out.append(f"{where(w, c)}: the verify key {path} is the signing key's Secret key {files[path][1]}")
    return out


# --- the module graph -----------------------------------------------------------------------

def module_labels(module: str) -> dict:
    return {NAME: "deliveryhub", COMPONENT: module, "app.kubernetes.io/part-of": "deliveryhub"}


def network_edges(objects: list[dict], modules: list[str]) -> tuple[set, set]:
    """(ingress, egress): the (caller, callee) pairs that NetworkPolicies let reach the module
    port, read from the ingress rules and from the egress rules. A peer with a namespaceSelector
    is another namespace's pod, not a module; a rule without peers or ports allows everything."""
    def selected(selector: dict) -> set:
        return {m for m in modules if matches(selector, module_labels(m))}

    def peers(rule: dict, key: str) -> set:
        if not rule.get(key):
            return set(modules)
        return set().union(*[selected(p["podSelector"]) for p in rule[key]
                             if "podSelector" in p and "namespaceSelector" not in p and "ipBlock" not in p])

    def reaches_port(rule: dict) -> bool:
        return not rule.get("ports") or any(p.get("port") in (PORT, "http") for p in rule["ports"])

    ingress, egress = set(), set()
    for np in of_kind(objects, "NetworkPolicy"):
        targets = selected(np["spec"]["podSelector"])
        for rule in np["spec"].get("ingress", []):
            if reaches_port(rule):
                ingress |= {(a, b) for a in peers(rule, "from") for b in targets if a != b}
        for rule in np["spec"].get("egress", []):
            if reaches_port(rule):
                egress |= {(a, b) for a in targets for b in peers(rule, "to") if a != b}
    return ingress, egress


def graph_edges(spec: dict) -> set:
    return {(caller, callee) for caller, m in spec["modules"].items() for callee in m["calls"]}


def network_policy_violations(objects: list[dict], spec: dict, split: bool) -> list[str]:
    """Module -> module traffic allowed exactly along k8s/modules.yaml's edges (none in the single
    shape, where calls stay in the process)."""
    want = graph_edges(spec) if split else set()
    ingress, egress = network_edges(objects, list(spec["modules"]))
    out = []
    for side, got in (("ingress", ingress), ("egress", egress)):
        for a, b in sorted(got - want):
            out.append(f"NetworkPolicy {side} allows {a} -> {b}, not an edge of k8s/modules.yaml")
        for a, b in sorted(want - got):
            out.append(f"NetworkPolicy {side} misses the edge {a} -> {b}")
    return out


def graph_code_violations(spec: dict, graph: dict) -> list[str]:
    """The spec's edges are the module graph's (docs/modules.json, the binary's `modules --json`):
    `api` edges are each module's calls; every process without the token issuer needs the issuer
    for the JWKS, for suspensions (ADR 0021) and so for a service token."""
    code = {m["name"]: set(m["calls"]) for m in graph["modules"]}
    issuer = next(m["name"] for m in graph["modules"] if m["issues_tokens"])
    out = []
    if set(code) != set(spec["modules"]):
        out.append(f"modules: the graph has {sorted(code)}, the spec {sorted(spec['modules'])}")
    for module, m in spec["modules"].items():
        api = {c for c, reasons in m["calls"].items() if "api" in reasons}
        if api != code.get(module, set()):
            out.append(f"{module}: api edges {sorted(api)}, the graph's {sorted(code.get(module, set()))}")
        if module == issuer:
            continue
        reasons = set(m["calls"].get(issuer, []))
        if "jwks" not in reasons:
            out.append(f"{module}: no jwks edge to {issuer}, but it validates tokens with the keys of {issuer}")
        if "suspensions" not in reasons:
            out.append(f"{module}: no suspensions edge to {issuer}, but it must refuse suspended accounts")
        if "service-token" not in reasons:
            out.append(f"{module}: calls {issuer} but has no service-token edge to {issuer}")
    return out


def remote_flags(container: dict) -> dict[str, str]:
    args = container.get("args", [])
    flags = {}
    for i, a in enumerate(args):
        value = args[i + 1] if a in ("--remote", "--modules") and i + 1 < len(args) else (
            a.split("=", 1)[1] if a.startswith(("--remote=", "--modules=")) else None)
        if value is None:
            continue
        if a.startswith("--remote"):
            module, url = value.split("=", 1)
            flags[module] = url
        else:
            flags["--modules"] = value
    return flags


def remote_violations(objects: list[dict], spec: dict) -> list[str]:
    """Each module Deployment runs `--modules <its module>` with one `--remote` per edge of
    k8s/modules.yaml, each pointing at that module's Service in the render."""
    out = []
    services = {s["metadata"]["name"] for s in of_kind(objects, "Service")}
    for d in of_kind(objects, "Deployment"):
        module = d["spec"]["template"]["metadata"]["labels"].get(COMPONENT)
        if module not in spec["modules"]:
            continue
        for c in [c for c in containers(d) if is_deliveryhub(c)]:
            flags = remote_flags(c)
            if flags.pop("--modules", None) != module:
                out.append(f"{where(d, c)}: does not run --modules {module}")
            if set(flags) != set(spec["modules"][module]["calls"]):
                out.append(f"{where(d, c)}: --remote for {sorted(flags)}, edges "
                           f"{sorted(spec['modules'][module]['calls'])}")
            for callee, url in flags.items():
                host = re.match(r"http://([^:/]+):(\d+)$", url)
                if not host or host.group(1) not in services or int(host.group(2)) != PORT:
                    out.append(f"{where(d, c)}: --remote {callee}={url} is not a Service of the render on {PORT}")
    return out


# --- the ingress ----------------------------------------------------------------------------

def nginx_routes(template: str) -> dict[str, str]:
    """Prefix `location`s of config/nginx/deliveryhub-routes.conf.template -> upstream; the
    catch-all `/` and exact/regex locations (=, ~) are the gateway's own answers."""
    routes = {}
    for m in re.finditer(r"^location\s+(/\S*)\s*\{\s*proxy_pass\s+http://(\w+);", template, re.M):
        routes[m.group(1)] = m.group(2)
    return routes


def ingress_routes(objects: list[dict]) -> dict[str, str]:
    routes = {}
    for ing in of_kind(objects, "Ingress"):
        for rule in ing["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                routes[p["path"]] = p["backend"]["service"]["name"]
    return routes


def ingress_violations(objects: list[dict], template: str, split: bool) -> list[str]:
    """The Ingress routes the same prefixes as config/nginx, to the same module (split) or to the
    one Service (single), over TLS."""
    want = nginx_routes(template)
    got = ingress_routes(objects)
    out = []
    if set(got) != set(want):
        out.append(f"Ingress paths {sorted(got)} are not config/nginx's {sorted(want)}")
    for path, service in got.items():
        expected = want.get(path) if split else "deliveryhub"
        if service != expected:
            out.append(f"Ingress {path} goes to {service}, not {expected}")
    for ing in of_kind(objects, "Ingress"):
        hosts = {h for rule in ing["spec"]["rules"] for h in [rule.get("host")]}
        tls_hosts = {h for t in ing["spec"].get("tls", []) for h in t.get("hosts", [])}
        if not hosts <= tls_hosts:
            out.append(f"Ingress {ing['metadata']['name']}: hosts {sorted(hosts - tls_hosts)} without TLS")
    return out


# --- everything else ------------------------------------------------------------------------

def secret_key_violations(objects: list[dict], template: dict) -> list[str]:
    """Every key of deliveryhub-secrets that a pod reads is in the Secret template."""
    keys = set(template.get("stringData", {})) | set(template.get("data", {}))
    name = template["metadata"]["name"]
    out = []
    for w in [o for o in objects if o.get("kind") in WORKLOADS]:
        for c in containers(w):
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["name"] == name and ref["key"] not in keys:
                    out.append(f"{where(w, c)}: {e['name']} reads key {ref['key']}, not in the template")
        for v in pod_spec(w).get("volumes", []):
            if v.get("secret", {}).get("secretName") == name:
                for item in v["secret"].get("items", []):
                    if item["key"] not in keys:
                        out.append(f"{w['kind']} {w['metadata']['name']}: volume {v['name']} reads key "
                                   f"{item['key']}, not in the template")
    return out


def exported_metrics(src: Path) -> set[str]:
    """The deliveryhub_* series the code exports: every such string literal in src/ (metric
    names are literals there), and a histogram's _bucket, _sum and _count."""
    names = set()
    for path in src.rglob("*.cpp"):
        text = path.read_text(errors="replace")
        names |= set(re.findall(r'"(deliveryhub_[a-z0-9_]+)"', text))
        for histogram in re.findall(r'BuildHistogram\(\)\s*\.Name\("(deliveryhub_\w+)"\)', text):
            names |= {histogram + suffix for suffix in ("_bucket", "_sum", "_count")}
    return names


def metric_violations(expressions: dict[str, str], exported: set[str]) -> list[str]:
    """Every deliveryhub_* name in the alerts' and dashboards' PromQL is one the code exports
    (`expressions`: where -> PromQL)."""
    return [f"{at}: {name} is not exported by src/"
            for at, expr in expressions.items()
            for name in sorted(set(re.findall(r"\bdeliveryhub_\w+", expr)))
            if name not in exported]


def cpu_limit_cpus(container: dict) -> int:
    """The CPUs a container's limit gives it, rounded up as deliveryhub counts them
    (src/core/util/cpu_budget.cpp); no limit: the node's, taken here as 16."""
    limit = str(container.get("resources", {}).get("limits", {}).get("cpu", ""))
    if not limit:
        return 16
    millis = int(limit[:-1]) if limit.endswith("m") else int(float(limit) * 1000)
    return max(1, -(-millis // 1000))


def thread_counts(objects: list[dict], container: dict) -> tuple[int, int]:
    """(worker, io) threads of a deliveryhub container: its settings, else the defaults its CPU
    limit gives (two handler threads per CPU, at least four; one I/O thread per four CPUs)."""
    cpus = cpu_limit_cpus(container)
    workers = config_value(objects, container, "DELIVERYHUB_WORKER_THREADS")
    io = config_value(objects, container, "DELIVERYHUB_IO_THREADS")
    return (int(workers) if workers else max(4, 2 * cpus), int(io) if io else max(1, cpus // 4))


def postgres_connection_violations(objects: list[dict]) -> list[str]:
    """PostgreSQL's max_connections, less the superuser's reserved ones, covers every deliveryhub
    process at its most (HPA maxima, one surge pod per Deployment during a rollout, the migrations
    Job), each with its pool of worker + io threads + 4 connections (--database-pool-size 0)."""
    postgres = named(objects, "StatefulSet", "postgres")
    if postgres is None:
        return ["no StatefulSet postgres"]
    args = " ".join(pod_spec(postgres)["containers"][0].get("args", []))
    found = re.search(r"max_connections=(\d+)", args)
    limit = int(found.group(1)) if found else 100
    hpa_max = {h["spec"]["scaleTargetRef"]["name"]: h["spec"]["maxReplicas"]
               for h in of_kind(objects, "HorizontalPodAutoscaler")}
    need = 0
    for w in [o for o in objects if o.get("kind") in ("Deployment", "Job")]:
        for c in [c for c in containers(w) if is_deliveryhub(c)]:
            pool = int(config_value(objects, c, "DELIVERYHUB_DATABASE_POOL_SIZE") or 0) or (
                sum(thread_counts(objects, c)) + 4)
            if w["kind"] == "Job":
                pods = 1
            else:
                surge = w["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", 1)
                pods = hpa_max.get(w["metadata"]["name"], w["spec"].get("replicas", 1)) + int(surge)
            need += pods * pool
    # The superuser keeps superuser_reserved_connections (3) of them; the modules' role cannot use those.
    reserved = int(postgres_settings(pod_spec(postgres)["containers"][0]).get("superuser_reserved_connections", 3))
    return [] if need + reserved <= limit else [
        f"PostgreSQL max_connections {limit} < {need} that the processes may open + {reserved} for the superuser"]


def namespace_violations(objects: list[dict], namespace: str = "deliveryhub",
                         node_agents: tuple[str, ...] = ("logging",)) -> list[str]:
    """Everything in one namespace, which enforces Pod Security "restricted". The exception is
    the log collector's stack (k8s/components/logging, ADR 0035), in a namespace of its own
    (`node_agents`) that enforces "privileged" because the collector mounts a node path; only
    DaemonSets and StatefulSets run pods there (log_policies.py and container_violations check
    them)."""
    out = []
    for o in objects:
        md = o["metadata"]
        if o["kind"] == "Namespace":
            want = "privileged" if md["name"] in node_agents else "restricted"
            if md.get("labels", {}).get("pod-security.kubernetes.io/enforce") != want:
                out.append(f"Namespace {md['name']}: Pod Security {want} not enforced")
        elif md.get("namespace") in node_agents:
            if o["kind"] in ("Deployment", "Job", "CronJob", "ReplicaSet", "Pod"):
                out.append(f"{o['kind']} {md['name']}: runs pods in {md['namespace']}, whose Pod Security is "
                           "privileged for the log collector's sake")
        elif md.get("namespace") != namespace:
            out.append(f"{o['kind']} {md['name']}: namespace {md.get('namespace')}")
    return out


def service_account_violations(objects: list[dict]) -> list[str]:
    """Pods run as a ServiceAccount of the render, with no API token mounted; the principals of
    the Istio policies that select pods here name ServiceAccounts of the render."""
    out = []
    accounts = {s["metadata"]["name"]: s for s in of_kind(objects, "ServiceAccount")}
    for w in [o for o in objects if o.get("kind") in WORKLOADS]:
        spec = pod_spec(w)
        account = accounts.get(spec.get("serviceAccountName", "default"))
        if account is None:
            out.append(f"{w['kind']} {w['metadata']['name']}: ServiceAccount {spec.get('serviceAccountName')} "
                       "is not in the render")
        if spec.get("automountServiceAccountToken") is not False and (
                account is None or account.get("automountServiceAccountToken") is not False):
            out.append(f"{w['kind']} {w['metadata']['name']}: mounts an API token")
    pods = [w["spec"]["template"]["metadata"].get("labels", {}) for w in objects if w.get("kind") in WORKLOADS]
    for ap in of_kind(objects, "AuthorizationPolicy"):
        if not any(matches(ap["spec"].get("selector", {}), labels) for labels in pods):
            continue  # selects no pod of this shape (the istio component serves both shapes)
        for rule in ap["spec"].get("rules", []):
            for source in rule.get("from", []):
                for principal in source["source"].get("principals", []):
                    m = re.match(r"cluster\.local/ns/([^/]+)/sa/(.+)$", principal)
                    if m and m.group(1) == ap["metadata"].get("namespace") and m.group(2) not in accounts:
                        out.append(f"AuthorizationPolicy {ap['metadata']['name']}: {principal} is not a "
                                   "ServiceAccount of the render")
    return out


def istio_edge_violations(objects: list[dict], spec: dict, ingress_principal: str | None = None) -> list[str]:
    """Istio AuthorizationPolicies let a module's pods be called by the service accounts of its
    callers in k8s/modules.yaml only, and by the ingress controller (`ingress_principal`, by
    default the one of the render's cluster settings) on its public routes only."""
    ingress_principal = ingress_principal or ingress_identity(rendered_settings(objects))["principal"]
    got, routes = set(), {}
    for ap in of_kind(objects, "AuthorizationPolicy"):
        callee = ap["spec"].get("selector", {}).get("matchLabels", {}).get(COMPONENT)
        if callee not in spec["modules"]:
            continue
        for rule in ap["spec"].get("rules", []):
            principals = [p for s in rule.get("from", []) for p in s["source"].get("principals", [])]
            paths = [p for t in rule.get("to", []) for p in t["operation"].get("paths", [])]
            if not principals:
                got |= {("*", callee)}  # a rule without principals lets any caller in
            for principal in principals:
                caller = re.match(r".*/sa/deliveryhub-(\w+)$", principal)
                if caller:
                    got.add((caller.group(1), callee))
                elif principal == ingress_principal:
                    routes.setdefault(callee, set()).update(paths)
                else:
                    got.add((principal, callee))
    out = [f"AuthorizationPolicy lets {a} call {b}, not an edge of k8s/modules.yaml"
           for a, b in sorted(got - graph_edges(spec))]
    out += [f"AuthorizationPolicy misses the edge {a} -> {b}" for a, b in sorted(graph_edges(spec) - got)]
    for module, m in spec["modules"].items():
        want = {r + "*" for r in m["routes"]}
        if routes.get(module, set()) != want:
            out.append(f"AuthorizationPolicy {module}: the ingress may reach {sorted(routes.get(module, set()))}, "
                       f"not {sorted(want)}")
    return out


# --- the mesh's routes (ADR 0034) -----------------------------------------------------------

# Retry conditions under which the request never reached a module: a failed connection, an
# HTTP/2 stream refused before it was read. Everything else Envoy retries on (5xx, gateway-error,
# reset, retriable-status-codes, a status code) may follow a request the module acted on.
SAFE_RETRY_ON = {"connect-failure", "refused-stream"}
MODULE_CALLS_PREFIX = "/internal/"


def app_remote_timeouts(root: Path) -> tuple[int, int]:
    """(per-attempt timeout, slack) in ms of the modules' own client, as the code states them: the
    default of ChannelOptions::timeout (src/core/remote/channel_options.hpp, DELIVERYHUB_REMOTE_TIMEOUT
    overrides it) and the time HttpChannel's I/O loop runs past it (src/core/remote/http_channel.cpp)."""
    options = (root / "src/core/remote/channel_options.hpp").read_text()
    channel = (root / "src/core/remote/http_channel.cpp").read_text()
    timeout = re.search(r"std::chrono::milliseconds\s+timeout\{([\d']+)\}", options)
    slack = re.search(r"run_for\(timeout \+ std::chrono::milliseconds\((\d+)\)\)", channel)
    if not timeout or not slack:
        raise ValueError("the remote client's timeout is no longer stated where tests/k8s/policies.py reads it")
    return int(timeout.group(1).replace("'", "")), int(slack.group(1))


def remote_timeout_ms(objects: list[dict], default_ms: int) -> int:
    """The longest per-attempt timeout any module process of the render calls others with: its
    --remote-timeout or DELIVERYHUB_REMOTE_TIMEOUT, else the code's default."""
    longest = 0
    for d in of_kind(objects, "Deployment"):
        for c in [c for c in containers(d) if is_deliveryhub(c)]:
            args = c.get("args", [])
            value = next((args[i + 1] for i, a in enumerate(args[:-1]) if a == "--remote-timeout"), None) or next(
                (a.split("=", 1)[1] for a in args if a.startswith("--remote-timeout=")), None)
            value = value or config_value(objects, c, "DELIVERYHUB_REMOTE_TIMEOUT")
            longest = max(longest, int(value) if value else default_ms)
    return longest


def http_routes(objects: list[dict]) -> list[tuple[dict, int, dict]]:
    """(VirtualService, index, route) for every HTTP route."""
    return [(vs, i, r) for vs in of_kind(objects, "VirtualService") for i, r in enumerate(vs["spec"].get("http", []))]


def route_name(vs: dict, i: int, route: dict) -> str:
    return f"VirtualService {vs['metadata']['name']} route {route.get('name', i)}"


def is_module_call_route(route: dict) -> bool:
    """A route that only /internal/ requests, the calls between modules, can take."""
    matches_ = route.get("match") or []
    return bool(matches_) and all(
        (m.get("uri") or {}).get("prefix", (m.get("uri") or {}).get("exact", "")).startswith(MODULE_CALLS_PREFIX)
        for m in matches_)


def virtual_service_violations(objects: list[dict], namespace: str = "deliveryhub") -> list[str]:
    """Each module Service (label name=deliveryhub) has exactly one VirtualService, for its short
    and its cluster name, on the mesh (sidecars), routing to that Service only: two for one host
    conflict in Istio, and a Service without one gets Istio's default retries."""
    out = []
    services = [s["metadata"]["name"] for s in of_kind(objects, "Service")
                if s["metadata"].get("labels", {}).get(NAME) == "deliveryhub"]
    for name in services:
        names = {name, f"{name}.{namespace}.svc.cluster.local"}
        found = [vs for vs in of_kind(objects, "VirtualService") if names & set(vs["spec"].get("hosts", []))]
        if len(found) != 1:
            out.append(f"Service {name}: {len(found)} VirtualServices, not one")
            continue
        vs = found[0]
        spec = vs["spec"]
        if not names <= set(spec.get("hosts", [])):
            out.append(f"VirtualService {vs['metadata']['name']}: hosts {spec.get('hosts')} are not {sorted(names)}")
        if "mesh" not in spec.get("gateways", ["mesh"]):
            out.append(f"VirtualService {vs['metadata']['name']}: not on the mesh gateway (the sidecars)")
        if not spec.get("http"):
            out.append(f"VirtualService {vs['metadata']['name']}: no http routes")
        for i, route in enumerate(spec.get("http", [])):
            for target in route.get("route", []):
                if target["destination"]["host"] not in names:
                    out.append(f"{route_name(vs, i, route)}: sends to {target['destination']['host']}, not {name}")
    return out


def mesh_timeout_violations(objects: list[dict], attempt_ms: int, slack_ms: int) -> list[str]:
    """Every route has a timeout (and a perTryTimeout no shorter) that never cuts a call its
    caller still waits for: on /internal/, longer than the modules' own attempt (their
    per-attempt timeout, `attempt_ms` or the render's longer setting, plus `slack_ms`), so the
    app's timer fires first and it judges the attempt itself; elsewhere, longer than the ingress
    controller's read timeout."""
    out = []
    app_ms = remote_timeout_ms(objects, attempt_ms) + slack_ms
    ingress_ms = max([int(i["metadata"].get("annotations", {}).get(
        "nginx.ingress.kubernetes.io/proxy-read-timeout", 60)) * 1000 for i in of_kind(objects, "Ingress")] or [0])
    for vs, i, route in http_routes(objects):
        at = route_name(vs, i, route)
        want_ms, why = (app_ms, "the modules' own attempt") if is_module_call_route(route) else (
            ingress_ms, "the ingress controller's read timeout")
        timeout = go_duration_seconds(str(route.get("timeout", "")))
        if timeout is None or timeout == 0:
            out.append(f"{at}: no timeout")
            continue
        per_try = go_duration_seconds(str(route.get("retries", {}).get("perTryTimeout", route["timeout"])))
        for what, seconds in (("timeout", timeout), ("perTryTimeout", per_try)):
            if seconds is None or seconds * 1000 <= want_ms:
                out.append(f"{at}: {what} {seconds:g} s is not longer than {why} ({want_ms} ms)"
                           if seconds is not None else f"{at}: {what} is not a duration")
    return out


def mesh_retry_violations(objects: list[dict]) -> list[str]:
    """Every route sets its retries (without, Istio retries twice, on 503 too), at most one, and
    only when the request never reached a module: the modules retry idempotent calls themselves
    (ADR 0014), a mesh retry after a 5xx or a reset could repeat a non-idempotent POST, and two
    layers retrying would multiply the attempts past the app's retry budget and breaker."""
    out = []
    for vs, i, route in http_routes(objects):
        at = route_name(vs, i, route)
        retries = route.get("retries")
        if retries is None:
            out.append(f"{at}: no retries set: Istio's default retries 503s twice")
            continue
        attempts = retries.get("attempts", 0)
        if attempts > 1:
            out.append(f"{at}: {attempts} retry attempts, more than one")
        if attempts == 0:
            continue
        conditions = [c.strip() for c in str(retries.get("retryOn", "")).split(",") if c.strip()]
        if not conditions:
            out.append(f"{at}: retries without retryOn: Istio's default retries 503s")
        for c in conditions:
            if c not in SAFE_RETRY_ON:
                out.append(f"{at}: retries on {c}, after which the module may have acted")
    return out


def fault_violations(objects: list[dict], source: str | None = None, host: str | None = None) -> list[str]:
    """Fault injection only where asked (`source` calling `host`, the chaos component), and there
    only for that caller's pods: every match of a route with a fault names the caller's labels
    (sourceLabels), and such a route comes before every route that matches all callers, which
    would take its requests otherwise. Without `source`, no route may inject faults."""
    out = []
    for vs, i, route in http_routes(objects):
        if "fault" not in route:
            continue
        at = route_name(vs, i, route)
        if source is None:
            out.append(f"{at}: injects faults outside the chaos component")
            continue
        if vs["metadata"]["name"] != host:
            out.append(f"{at}: injects faults on {vs['metadata']['name']}, not on {host}")
        want = {NAME: "deliveryhub", COMPONENT: source}
        if not route.get("match"):
            out.append(f"{at}: injects faults for every caller (no match)")
        for m in route.get("match", []):
            if m.get("sourceLabels") != want:
                out.append(f"{at}: a match with sourceLabels {m.get('sourceLabels')}, not {want}")
        earlier = [r for r in vs["spec"]["http"][:i] if not all(m.get("sourceLabels") for m in r.get("match") or [{}])]
        if earlier:
            out.append(f"{at}: comes after route {earlier[0].get('name')}, which takes its requests first")
    return out


# --- PostgreSQL's backups (ADR 0038) ---------------------------------------------------------

PGBACKREST_CONFIG = "/etc/pgbackrest/pgbackrest.conf"  # pgBackRest's default path
ARCHIVE_PUSH = re.compile(r"^pgbackrest(?:\s+--[\w-]+(?:=\S+)?)*\s+--stanza=(\S+)(?:\s+--[\w-]+(?:=\S+)?)*\s+archive-push\s+%p$")
DEFAULT_PGDATA = "/var/lib/postgresql/data"
OBJECT_STORES = {"s3": "repo1-s3-bucket", "gcs": "repo1-gcs-bucket", "azure": "repo1-azure-container"}


def postgres_settings(container: dict) -> dict[str, str]:
    """The server settings of a container's `postgres -c NAME=VALUE` (or `--NAME=VALUE`) args."""
    args = container.get("command", []) + container.get("args", [])
    settings = {}
    for i, a in enumerate(args):
        if a == "-c" and i + 1 < len(args):
            pair = args[i + 1]
        elif a.startswith("-c") and len(a) > 2:
            pair = a[2:]
        elif a.startswith("--") and "=" in a:
            pair = a[2:]
        else:
            continue
        name, _, value = pair.partition("=")
        settings[name.strip().replace("-", "_")] = value.strip()
    return settings


def env_value(container: dict, name: str) -> str | None:
    return next((e.get("value") for e in container.get("env", []) if e["name"] == name), None)


def mount_of(container: dict, path: str) -> dict | None:
    """The volumeMount that holds `path` in the container (the longest mountPath above it)."""
    found = [m for m in container.get("volumeMounts", [])
             if path == m["mountPath"].rstrip("/") or path.startswith(m["mountPath"].rstrip("/") + "/")]
    return max(found, key=lambda m: len(m["mountPath"]), default=None)


def volume_source(workload: dict, name: str) -> tuple[str, str]:
    """What a pod volume is: ("claim", claim name) for a PersistentVolumeClaim or a claim template
    (named as the StatefulSet's first pod's claim), ("emptyDir", name), ("configMap", ConfigMap
    name), or (another kind, name)."""
    for t in workload["spec"].get("volumeClaimTemplates", []):
        if t["metadata"]["name"] == name:
            return "claim", f"{name}-{workload['metadata']['name']}-0"
    volume = next((v for v in pod_spec(workload).get("volumes", []) if v["name"] == name), None)
    if volume is None:
        return "missing", name
    if "persistentVolumeClaim" in volume:
        return "claim", volume["persistentVolumeClaim"]["claimName"]
    if "configMap" in volume:
        return "configMap", volume["configMap"]["name"]
    kind = next((k for k in volume if k != "name"), "unknown")
    return kind, name


def mounted_text(objects: list[dict], workload: dict, container: dict, path: str) -> str | None:
    """The text a ConfigMap volume puts at `path` in the container; None when none does."""
    mount = mount_of(container, path)
    if mount is None:
        return None
    kind, name = volume_source(workload, mount["name"])
    cm = named(objects, "ConfigMap", name) if kind == "configMap" else None
    if cm is None:
        return None
    relative = mount.get("subPath") or path[len(mount["mountPath"].rstrip("/")) + 1:]
    volume = next(v for v in pod_spec(workload)["volumes"] if v["name"] == mount["name"])
    items = volume["configMap"].get("items")
    key = next((i["key"] for i in items if i["path"] == relative), None) if items else relative
    return cm.get("data", {}).get(key)


def parse_pgbackrest_conf(text: str) -> dict[str, dict[str, str]]:
    """pgBackRest's INI file: [section] then key=value lines, # comments."""
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), {})
        elif "=" in line and current is not None:
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip()
    return sections


def pgbackrest_conf(objects: list[dict], workload: dict, container: dict) -> dict[str, dict[str, str]] | None:
    path = env_value(container, "PGBACKREST_CONFIG") or PGBACKREST_CONFIG
    text = mounted_text(objects, workload, container, path)
    return None if text is None else parse_pgbackrest_conf(text)


def pgbackrest_option(conf: dict, stanza: str, key: str) -> str | None:
    return conf.get(stanza, {}).get(key, conf.get("global", {}).get(key))


def postgres_server(objects: list[dict]) -> tuple[dict | None, dict | None]:
    """(StatefulSet postgres, its server container: the one named postgres, else the first)."""
    sts = named(objects, "StatefulSet", "postgres")
    if sts is None:
        return None, None
    cs = pod_spec(sts)["containers"]
    return sts, next((c for c in cs if c["name"] == "postgres"), cs[0])


def archive_stanza(server: dict) -> str | None:
    m = ARCHIVE_PUSH.match(postgres_settings(server).get("archive_command", "").strip())
    return m.group(1) if m else None


def archiving_violations(objects: list[dict]) -> list[str]:
    """The server archives every WAL segment with pgBackRest: archive_mode on, archive_command
    `pgbackrest … --stanza=S … archive-push %p`, pgBackRest's configuration mounted in that
    container (archive_command runs there) with a section [S] whose pg1-path is the container's
    PGDATA."""
    sts, server = postgres_server(objects)
    if sts is None:
        return ["no StatefulSet postgres"]
    at = where(sts, server)
    settings = postgres_settings(server)
    out = []
    if settings.get("archive_mode") not in ("on", "always"):
        out.append(f"{at}: archive_mode is {settings.get('archive_mode', 'off (the default)')}, not on")
    stanza = archive_stanza(server)
    if stanza is None:
        out.append(f"{at}: archive_command {settings.get('archive_command')!r} is not "
                   "`pgbackrest --stanza=… archive-push %p`")
    conf = pgbackrest_conf(objects, sts, server)
    if conf is None:
        out.append(f"{at}: no pgBackRest configuration at {PGBACKREST_CONFIG} (a ConfigMap volume)")
    elif stanza is not None:
        if stanza not in conf:
            out.append(f"{at}: pgBackRest's configuration has no section [{stanza}], the archive_command's stanza")
        pgdata = env_value(server, "PGDATA") or DEFAULT_PGDATA
        if pgbackrest_option(conf, stanza, "pg1-path") != pgdata:
            out.append(f"{at}: stanza {stanza}'s pg1-path {pgbackrest_option(conf, stanza, 'pg1-path')} is not "
                       f"PGDATA {pgdata}")
    return out


def repository_violations(objects: list[dict]) -> list[str]:
    """pgBackRest's repository is an object store (with its bucket), or a path on a
    PersistentVolumeClaim of the render that the server's container mounts (archive-push writes
    there), never the claim of the data directory nor a volume that dies with the pod."""
    sts, server = postgres_server(objects)
    if sts is None:
        return ["no StatefulSet postgres"]
    conf = pgbackrest_conf(objects, sts, server)
    stanza = archive_stanza(server) or "global"
    if conf is None:
        return [f"{where(sts, server)}: no pgBackRest configuration, so no repository"]
    kind = pgbackrest_option(conf, stanza, "repo1-type") or "posix"
    if kind in OBJECT_STORES:
        bucket = OBJECT_STORES[kind]
        return [] if pgbackrest_option(conf, stanza, bucket) else [f"pgBackRest: repo1-type={kind} without {bucket}"]
    path = pgbackrest_option(conf, stanza, "repo1-path") or "/var/lib/pgbackrest"
    mount = mount_of(server, path)
    if mount is None:
        return [f"pgBackRest: the repository {path} is on no volume of {where(sts, server)} (its read-only root)"]
    source, name = volume_source(sts, mount["name"])
    data = mount_of(server, pgbackrest_option(conf, stanza, "pg1-path") or DEFAULT_PGDATA)
    out = []
    if source != "claim":
        out.append(f"pgBackRest: the repository {path} is on volume {mount['name']} ({source}), not a "
                   "PersistentVolumeClaim: it would go with the pod")
    elif data is not None and volume_source(sts, data["name"]) == (source, name):
        out.append(f"pgBackRest: the repository {path} is on the data volume ({name}): one lost disk loses both")
    elif not any(t["metadata"]["name"] == mount["name"] for t in sts["spec"].get("volumeClaimTemplates", [])) \
            and named(objects, "PersistentVolumeClaim", name) is None:
        out.append(f"pgBackRest: the repository's claim {name} is not in the render")
    return out


def retention_violations(objects: list[dict]) -> list[str]:
    """pgBackRest expires old backups and their WAL: repo1-retention-full is set (a count of full
    backups, or days with repo1-retention-full-type=time). Without it pgBackRest keeps
    everything and the repository fills up."""
    sts, server = postgres_server(objects)
    if sts is None:
        return ["no StatefulSet postgres"]
    conf = pgbackrest_conf(objects, sts, server) or {}
    stanza = archive_stanza(server) or "global"
    value = pgbackrest_option(conf, stanza, "repo1-retention-full")
    kind = pgbackrest_option(conf, stanza, "repo1-retention-full-type") or "count"
    if value is None:
        return ["pgBackRest: no repo1-retention-full: backups and WAL are never expired"]
    if not value.isdigit() or int(value) < 1 or kind not in ("count", "time"):
        return [f"pgBackRest: repo1-retention-full={value} (type {kind}) is not a positive count or number of days"]
    return []


def pgbackrest_paths(conf: dict, stanza: str, with_socket: bool) -> dict[str, str]:
    """What pgBackRest reads where the server keeps it: the data directory, the server's socket
    folder (`with_socket`), and the repository unless it is an object store."""
    paths = {"data directory": pgbackrest_option(conf, stanza, "pg1-path") or DEFAULT_PGDATA}
    if with_socket:
        paths["server's socket"] = pgbackrest_option(conf, stanza, "pg1-socket-path") or "/var/run/postgresql"
    if (pgbackrest_option(conf, stanza, "repo1-type") or "posix") not in OBJECT_STORES:
        paths["repository"] = pgbackrest_option(conf, stanza, "repo1-path") or "/var/lib/pgbackrest"
    return paths


def sees_as_the_server(sts: dict, server: dict, workload: dict, container: dict, path: str) -> bool:
    """Whether `container` of `workload` has `path` at the same mount path, on the same volume,
    as PostgreSQL's `server` container of `sts`."""
    theirs, ours = mount_of(server, path), mount_of(container, path)
    return ours is not None and theirs is not None and ours["mountPath"] == theirs["mountPath"] and \
        volume_source(workload, ours["name"]) == volume_source(sts, theirs["name"])


def backup_schedule_violations(objects: list[dict]) -> list[str]:
    """A container beside the server takes the base backups on a schedule: it runs a script of
    pgBackRest's ConfigMap that calls `pgbackrest … backup`, with BACKUP_AT (HH:MM, UTC) and
    FULL_BACKUP_WEEKDAY (1-7), and it sees what pgBackRest needs: the data volume at the server's
    path, the server's socket folder, the repository's volume and the same configuration. (A
    CronJob's pod could reach none of the first three; pgBackRest talks to PostgreSQL through the
    socket only.)"""
    sts, server = postgres_server(objects)
    if sts is None:
        return ["no StatefulSet postgres"]
    conf = pgbackrest_conf(objects, sts, server) or {}
    stanza = archive_stanza(server) or "global"
    schedulers = []
    for c in [c for c in pod_spec(sts)["containers"] if c is not server]:
        words = c.get("command", []) + c.get("args", [])
        script = next((mounted_text(objects, sts, c, w) for w in words if w.startswith("/")
                       and mounted_text(objects, sts, c, w)), None)
        if script and re.search(r"\bpgbackrest\b.*\bbackup\b", script):
            schedulers.append((c, script))
    if not schedulers:
        return [f"{sts['kind']} postgres: no container runs a backup schedule (a script of pgBackRest's "
                "ConfigMap calling `pgbackrest … backup`)"]
    out = []
    for c, script in schedulers:
        at = where(sts, c)
        if stanza != "global" and f"--stanza={stanza}" not in script:
            out.append(f"{at}: its schedule never names the stanza {stanza} (pgBackRest requires --stanza)")
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", env_value(c, "BACKUP_AT") or ""):
            out.append(f"{at}: BACKUP_AT {env_value(c, 'BACKUP_AT')!r} is not HH:MM")
        if not re.fullmatch(r"[1-7]", env_value(c, "FULL_BACKUP_WEEKDAY") or ""):
            out.append(f"{at}: FULL_BACKUP_WEEKDAY {env_value(c, 'FULL_BACKUP_WEEKDAY')!r} is not 1-7")
        if pgbackrest_conf(objects, sts, c) != conf:
            out.append(f"{at}: does not mount the server's pgBackRest configuration")
        for what, path in pgbackrest_paths(conf, stanza, with_socket=True).items():
            if not sees_as_the_server(sts, server, sts, c, path):
                out.append(f"{at}: does not see the {what} ({path}) as the server does")
    return out


def dockerfile_args(dockerfile: str) -> dict[str, str]:
    return dict(re.findall(r"^ARG\s+(\w+)=(\S+)", dockerfile, re.M))


def postgres_image_violations(objects: list[dict], dockerfile: str) -> list[str]:
    """The image with pgBackRest (k8s/images/postgres/Dockerfile) is built from a pinned base
    with a pinned pgbackrest, and every container of the postgres StatefulSet runs it, tagged
    with the Dockerfile's VERSION: CI builds and pushes the tag the manifests name only when the
    registry lacks it, so a Dockerfile changed without a new tag would never be built."""
    out = []
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    for base in bases:
        problem = image_problem(base)
        if problem:
            out.append(f"the PostgreSQL image's base {base} {problem}")
    args = dockerfile_args(dockerfile)
    install = re.search(r"apt-get install[^\n]*?\bpgbackrest(=\S+)?", dockerfile)
    if not install:
        out.append("the PostgreSQL image does not install pgbackrest")
    elif not install.group(1):
        out.append("the PostgreSQL image's pgbackrest is not pinned to a version (pgbackrest=…)")
    version = args.get("VERSION")
    if not version:
        out.append("the PostgreSQL image's Dockerfile has no ARG VERSION=…, its tag")
    sts = named(objects, "StatefulSet", "postgres")
    for c in containers(sts) if sts else []:
        tag = c["image"].rsplit("/", 1)[-1].partition(":")[2]
        if tag != version:
            out.append(f"{where(sts, c)}: image {c['image']} is not the pgBackRest image's version {version}")
    return out


def restore_job_violations(job: dict, objects: list[dict]) -> list[str]:
    """The restore Job (a template, applied by hand) restores into the StatefulSet's data claim,
    from the server's repository claim, with the server's image and configuration, a time
    target and the archive_command's stanza."""
    sts, server = postgres_server(objects)
    if sts is None:
        return ["no StatefulSet postgres"]
    restore = pod_spec(job)["containers"][0]
    at = where(job, restore)
    out = []
    if restore["image"] != server["image"]:
        out.append(f"{at}: image {restore['image']} is not the server's {server['image']}")
    conf = pgbackrest_conf(objects, sts, server) or {}
    if pgbackrest_conf(objects, job, restore) != conf:
        out.append(f"{at}: does not mount the server's pgBackRest configuration")
    stanza = archive_stanza(server) or "global"
    for what, path in pgbackrest_paths(conf, stanza, with_socket=False).items():
        if not sees_as_the_server(sts, server, job, restore, path):
            theirs = mount_of(server, path)
            want = volume_source(sts, theirs["name"])[1] if theirs else "?"
            out.append(f"{at}: the {what} ({path}) is not the server's claim {want}")
    script = " ".join(restore.get("command", []) + restore.get("args", []))
    for word in ("restore", "--type=time", "--target=", f"--stanza={stanza}"):
        if word not in script:
            out.append(f"{at}: its pgbackrest command lacks {word}")
    return out


# --- day one on a cluster (issue 19, ADR 0040) -----------------------------------------------

SETTINGS_CONFIG_MAP = "deliveryhub-settings"
PLACEHOLDER = "cluster-settings-"
ISTIO_SIDECAR_SOURCE = "127.0.0.6"
# Namespaces a NetworkPolicy here may name that are not the ingress controller's.
OTHER_PEER_NAMESPACES = {"kube-system", "monitoring", "istio-system", "logging"}
ACME_SOLVER_LABELS = {"acme.cert-manager.io/http01-solver": "true"}
ACME_SOLVER_PORT = 8089
# A PostgreSQL backend's own memory besides work_mem: catalog and plan caches (every connection
# prepares its statements, ADR 0012), taken as 6 MiB (ADR 0040).
BACKEND_MIB = 6
# RabbitMQ may briefly use more than its watermark while it collects garbage: at most this share
# of the container's limit.
RABBITMQ_WATERMARK_SHARE = 0.6
RABBITMQ_OLDEST_SUPPORTED = (4, 3)


def rendered_settings(objects: list[dict]) -> dict[str, str]:
    """The cluster's settings as rendered: the data of ConfigMap deliveryhub-settings."""
    cm = named(objects, "ConfigMap", SETTINGS_CONFIG_MAP)
    return dict(cm.get("data", {})) if cm else {}


def ingress_identity(settings: dict[str, str]) -> dict[str, str]:
    ns, account = settings.get("ingress-namespace", "?"), settings.get("ingress-service-account", "?")
    return {"namespace": ns, "pod-name": settings.get("ingress-pod-name", "?"),
            "class": settings.get("ingress-class", "?"), "principal": f"cluster.local/ns/{ns}/sa/{account}"}


def strings(node, path: str = ""):
    """(path, string) of every string in a parsed YAML tree, keys included."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield f"{path}.{k}", str(k)
            yield from strings(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from strings(v, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def placeholder_violations(objects: list[dict]) -> list[str]:
    """No `cluster-settings-…` placeholder is left in a render: each is replaced from
    k8s/cluster/settings/settings.env by a kustomize replacement. A placeholder left means a
    replacement that missed its target (a renamed object or field)."""
    return [f"{o['kind']} {o['metadata']['name']}: {path[1:]} is still {value!r}"
            for o in objects for path, value in strings(o) if PLACEHOLDER in value]


def trusted_proxy_violations(objects: list[dict]) -> list[str]:
    """The modules trust X-Forwarded-For from the cluster's ingress controller: the ConfigMap's
    DELIVERYHUB_TRUSTED_PROXIES, less the Istio sidecar's 127.0.0.6, is a set of addresses or
    CIDRs the binary reads, neither empty (every client would look like the controller: one
    address for the login throttle and the connection cap) nor everything, loopback or a
    distribution's default pod network (tools/k8s/cluster_settings.py says which)."""
    cm = named(objects, "ConfigMap", "deliveryhub-config")
    if cm is None or "DELIVERYHUB_TRUSTED_PROXIES" not in cm.get("data", {}):
        return ["ConfigMap deliveryhub-config: no DELIVERYHUB_TRUSTED_PROXIES"]
    value = cm["data"]["DELIVERYHUB_TRUSTED_PROXIES"]
    proxies = ",".join(p for p in value.split(",") if p and p != ISTIO_SIDECAR_SOURCE)
    if " " in value:  # the binary reads the list as it is: a space is part of an item
        proxies = value
    return [f"ConfigMap deliveryhub-config: DELIVERYHUB_TRUSTED_PROXIES {value!r}: {p}"
            for p in cluster_settings.trusted_proxies_problems(proxies)]


def ingress_identity_violations(objects: list[dict], settings: dict[str, str], namespace: str = "deliveryhub") -> list[str]:
    """Every object that names the ingress controller names the one of the cluster's settings
    (ADR 0040): the NetworkPolicies' peers in another namespace (its namespace and pods' label
    app.kubernetes.io/name), the Istio principals from another namespace, the Ingresses' class;
    and the render's ConfigMap deliveryhub-settings holds those settings."""
    want = ingress_identity(settings)
    out = []
    rendered = rendered_settings(objects)
    for key in ("ingress-namespace", "ingress-service-account", "ingress-pod-name", "ingress-class"):
        if rendered.get(key) != settings.get(key):
            out.append(f"ConfigMap {SETTINGS_CONFIG_MAP}: {key} is {rendered.get(key)!r}, the settings say "
                       f"{settings.get(key)!r}")
    for np in of_kind(objects, "NetworkPolicy"):
        if np["metadata"].get("namespace", namespace) != namespace:
            continue
        for rule in np["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                peer_ns = peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                if peer_ns is None or peer_ns in OTHER_PEER_NAMESPACES | {namespace}:
                    continue
                if peer_ns != want["namespace"]:
                    out.append(f"NetworkPolicy {np['metadata']['name']}: a peer in namespace {peer_ns}, not the "
                               f"ingress controller's {want['namespace']}")
                pod = peer.get("podSelector", {}).get("matchLabels", {}).get(NAME)
                if pod != want["pod-name"]:
                    out.append(f"NetworkPolicy {np['metadata']['name']}: the controller's pods are {NAME}={pod}, "
                               f"not {want['pod-name']}")
    if of_kind(objects, "Ingress") and named(objects, "NetworkPolicy", "allow-ingress-controller") is None:
        out.append("NetworkPolicy allow-ingress-controller: missing, the default deny drops the controller")
    for ap in of_kind(objects, "AuthorizationPolicy"):
        for rule in ap["spec"].get("rules", []):
            for source in rule.get("from", []):
                for principal in source.get("source", {}).get("principals", []):
                    if not principal.startswith(f"cluster.local/ns/{namespace}/") and principal != want["principal"]:
                        out.append(f"AuthorizationPolicy {ap['metadata']['name']}: principal {principal}, not the "
                                   f"ingress controller's {want['principal']}")
    for ing in of_kind(objects, "Ingress"):
        if ing["spec"].get("ingressClassName") != want["class"]:
            out.append(f"Ingress {ing['metadata']['name']}: class {ing['spec'].get('ingressClassName')}, not "
                       f"{want['class']}")
    return out


def acme_solver_violations(objects: list[dict], settings: dict[str, str]) -> list[str]:
    """Under a default deny, cert-manager's HTTP-01 solver pods (its label, port 8089) can be
    reached by the ingress controller (ADR 0040): otherwise a Certificate is never issued."""
    denies = [np for np in of_kind(objects, "NetworkPolicy")
              if np["spec"].get("podSelector") == {} and "Ingress" in np["spec"].get("policyTypes", [])
              and not np["spec"].get("ingress")]
    if not denies:
        return []
    want = ingress_identity(settings)
    for np in of_kind(objects, "NetworkPolicy"):
        if np in denies or not matches(np["spec"].get("podSelector", {}), ACME_SOLVER_LABELS):
            continue
        for rule in np["spec"].get("ingress", []):
            ports = [p.get("port") for p in rule.get("ports", [])]
            if ports and ACME_SOLVER_PORT not in ports:
                continue
            for peer in rule.get("from", []):
                if peer.get("namespaceSelector", {}).get("matchLabels", {}).get(
                        "kubernetes.io/metadata.name") == want["namespace"] and matches(
                        peer.get("podSelector", {}), {NAME: want["pod-name"]}):
                    return []
    return [f"NetworkPolicy: the default deny keeps the ingress controller off cert-manager's HTTP-01 solver "
            f"pods ({ACME_SOLVER_LABELS}, port {ACME_SOLVER_PORT})"]


def storage_class_violations(objects: list[dict], storage_class: str) -> list[str]:
    """Every claim names the cluster's StorageClass (EKS >= 1.30 marks none as the default: a
    claim without a class stays Pending): PersistentVolumeClaims and claim templates."""
    out = []
    for pvc in of_kind(objects, "PersistentVolumeClaim"):
        if pvc["spec"].get("storageClassName") != storage_class:
            out.append(f"PersistentVolumeClaim {pvc['metadata']['name']}: storageClassName "
                       f"{pvc['spec'].get('storageClassName')!r}, not {storage_class!r}")
    for sts in of_kind(objects, "StatefulSet"):
        for t in sts["spec"].get("volumeClaimTemplates", []):
            if t["spec"].get("storageClassName") != storage_class:
                out.append(f"StatefulSet {sts['metadata']['name']}: claim template {t['metadata']['name']} has "
                           f"storageClassName {t['spec'].get('storageClassName')!r}, not {storage_class!r}")
    return out


def delete_safety_violations(objects: list[dict], namespace: str = "deliveryhub") -> list[str]:
    """`kubectl delete -k` of an overlay deletes what the overlay renders (ADR 0040): never the
    namespace (its Secrets and claims go with it) nor a standalone claim (the backups). Both are
    k8s/cluster's, applied once. Claim templates are safe: a deleted StatefulSet keeps its claims."""
    out = [f"Namespace {o['metadata']['name']}: rendered by the overlay, so `kubectl delete -k` deletes it with "
           "its Secrets and claims" for o in of_kind(objects, "Namespace") if o["metadata"]["name"] == namespace]
    out += [f"PersistentVolumeClaim {o['metadata']['name']}: rendered by the overlay, so `kubectl delete -k` deletes "
            "it" for o in of_kind(objects, "PersistentVolumeClaim")
            if o["metadata"].get("namespace", namespace) == namespace]
    return out


def job_violations(objects: list[dict]) -> list[str]:
    """A Job's failed attempt keeps its pod and so its log (restartPolicy Never: OnFailure
    restarts the container in place and keeps only the previous log), within a bounded number of
    retries and a deadline."""
    out = []
    for job in of_kind(objects, "Job"):
        name = f"Job {job['metadata']['name']}"
        if pod_spec(job).get("restartPolicy") != "Never":
            out.append(f"{name}: restartPolicy {pod_spec(job).get('restartPolicy')}, not Never: a failed attempt's "
                       "log is lost at the next restart")
        if not isinstance(job["spec"].get("backoffLimit"), int) or job["spec"]["backoffLimit"] < 0:
            out.append(f"{name}: no backoffLimit")
        if "activeDeadlineSeconds" not in job["spec"]:
            out.append(f"{name}: no activeDeadlineSeconds")
    return out


def sidecar_start_violations(objects: list[dict]) -> list[str]:
    """In the mesh every deliveryhub Deployment's pod asks for a sidecar itself (label
    sidecar.istio.io/inject: "true": the Namespace, applied once from k8s/cluster, carries no
    Istio label) and starts its app only once the sidecar is ready (holdApplicationUntilProxyStarts):
    the app's first calls (customers' JWKS, the database) go through it."""
    out = []
    for d in of_kind(objects, "Deployment"):
        meta_ = d["spec"]["template"]["metadata"]
        name = f"Deployment {d['metadata']['name']}"
        if meta_.get("labels", {}).get("sidecar.istio.io/inject") != "true":
            out.append(f"{name}: its pods are not labelled sidecar.istio.io/inject: \"true\": no sidecar")
        try:
            config = yaml.safe_load(meta_.get("annotations", {}).get("proxy.istio.io/config", "")) or {}
        except yaml.YAMLError:
            config = {}
        if not isinstance(config, dict) or config.get("holdApplicationUntilProxyStarts") is not True:
            out.append(f"{name}: proxy.istio.io/config does not set holdApplicationUntilProxyStarts: true")
    return out


def duration_seconds(value: str | int | None) -> float | None:
    """A number of seconds, or a Go duration ("60s")."""
    if value is None:
        return None
    text = str(value)
    return float(text) if re.fullmatch(r"\d+(\.\d+)?", text) else go_duration_seconds(text)


def idle_timeout_violations(objects: list[dict], controller_keepalive_s: float, default_s: int = 60) -> list[str]:
    """Each module keeps an idle connection open longer than every proxy in front of it keeps
    its idle upstream connections (ADR 0040): the ingress controller's keep-alive
    (`controller_keepalive_s`) and, in the mesh, the sidecars' (every DestinationRule's
    connectionPool.http.idleTimeout, which Istio applies to the callee's inbound pool too; without
    one, Istio's 1 h). Otherwise a proxy sends a request on a connection the module is closing
    at that moment, and the client gets a 502 or 503."""
    out = []
    proxies = [(f"the ingress controller's keep-alive {controller_keepalive_s:g} s", controller_keepalive_s)]
    for dr in of_kind(objects, "DestinationRule"):
        raw = dr["spec"].get("trafficPolicy", {}).get("connectionPool", {}).get("http", {}).get("idleTimeout")
        seconds = duration_seconds(raw)
        if seconds is None:
            out.append(f"DestinationRule {dr['metadata']['name']}: no connectionPool.http.idleTimeout: Istio keeps "
                       "idle connections 1 h")
            continue
        proxies.append((f"DestinationRule {dr['metadata']['name']}'s idleTimeout {seconds:g} s", seconds))
    for d in of_kind(objects, "Deployment"):
        for c in [c for c in containers(d) if is_deliveryhub(c)]:
            args = c.get("args", [])
            value = next((args[i + 1] for i, a in enumerate(args[:-1]) if a == "--idle-timeout"), None) or \
                config_value(objects, c, "DELIVERYHUB_IDLE_TIMEOUT") or default_s
            idle = int(value)
            for what, seconds in proxies:
                if idle <= seconds:
                    out.append(f"{where(d, c)}: its idle timeout {idle} s is not longer than {what}")
    return list(dict.fromkeys(out))


def quantity_bytes(text: str | int) -> int:
    """A Kubernetes quantity (128Mi, 1Gi, 512M, 2) in bytes."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?", str(text))
    if not m:
        raise ValueError(f"not a quantity: {text}")
    scale = {None: 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9,
             "T": 10**12}[m.group(2)]
    return int(float(m.group(1)) * scale)


def postgres_size_bytes(text: str, unit: int) -> int:
    """A PostgreSQL memory setting (512MB, 4MB, 64kB, or a bare number of `unit` bytes)."""
    m = re.fullmatch(r"(\d+)\s*(kB|MB|GB|TB)?", text.strip())
    if not m:
        raise ValueError(f"not a PostgreSQL size: {text}")
    return int(m.group(1)) * ({None: unit, "kB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}[m.group(2)])


def postgres_memory_violations(objects: list[dict], backend_mib: int = BACKEND_MIB) -> list[str]:
    """PostgreSQL's memory at its most fits its container's limit (ADR 0040): shared_buffers, the
    WAL buffers (-1: 1/32 of shared_buffers, at most 16 MB), autovacuum's workers each with
    maintenance_work_mem (autovacuum_work_mem), and max_connections backends each with work_mem
    and `backend_mib` of its own; PostgreSQL's defaults where a setting is not given. The request
    is the limit, so that the node has that memory for it."""
    sts, server = postgres_server(objects)
    if sts is None:
        return ["no StatefulSet postgres"]
    s = postgres_settings(server)
    mib = 2**20
    shared = postgres_size_bytes(s.get("shared_buffers", "128MB"), 8192)
    wal = postgres_size_bytes(s["wal_buffers"], 8192) if s.get("wal_buffers", "-1") != "-1" else \
        min(shared // 32, 16 * mib)
    work = postgres_size_bytes(s.get("work_mem", "4MB"), 1024)
    maintenance = postgres_size_bytes(s.get("autovacuum_work_mem", "-1"), 1024) \
        if s.get("autovacuum_work_mem", "-1") != "-1" else postgres_size_bytes(s.get("maintenance_work_mem", "64MB"), 1024)
    workers = int(s.get("autovacuum_max_workers", "3"))
    connections = int(s.get("max_connections", "100"))
    # /dev/shm: a memory-backed emptyDir, charged to the container's memory (parallel queries'
    # dynamic shared memory); without one the container's 64 MiB default makes them fail.
    shm_mount = next((m for m in server.get("volumeMounts", []) if m["mountPath"] == "/dev/shm"), None)
    shm_volume = next((v for v in pod_spec(sts).get("volumes", []) if shm_mount and v["name"] == shm_mount["name"]), {})
    shm_dir = shm_volume.get("emptyDir", {})
    shm = quantity_bytes(shm_dir.get("sizeLimit", "0")) if shm_dir.get("medium") == "Memory" else 0
    need = shared + wal + workers * maintenance + connections * (work + backend_mib * mib) + shm
    resources = server.get("resources", {})
    limit = quantity_bytes(resources.get("limits", {}).get("memory", "0"))
    at = where(sts, server)
    out = []
    if not shm:
        out.append(f"{at}: no memory-backed /dev/shm with a sizeLimit: parallel queries fail past the container's "
                   "64 MiB")
    if need > limit:
        out.append(f"{at}: up to {need // mib} MiB (shared_buffers {shared // mib} + WAL {wal // mib} + {workers} "
                   f"autovacuum x {maintenance // mib} + {connections} connections x ({work // mib} + {backend_mib}) "
                   f"+ /dev/shm {shm // mib}) over its limit of {limit // mib} MiB")
    if quantity_bytes(resources.get("requests", {}).get("memory", "0")) < limit:
        out.append(f"{at}: requests less memory than its limit: the node may not have what the budget counts on")
    return out


def rabbitmq_conf(objects: list[dict], workload: dict, container: dict) -> dict[str, str]:
    """The settings of every rabbitmq.conf file a ConfigMap puts under /etc/rabbitmq/."""
    settings = {}
    for mount in container.get("volumeMounts", []):
        if not mount["mountPath"].startswith("/etc/rabbitmq"):
            continue
        kind, name = volume_source(workload, mount["name"])
        cm = named(objects, "ConfigMap", name) if kind == "configMap" else None
        for key, text in (cm or {}).get("data", {}).items():
            if mount.get("subPath") not in (None, key) or not key.endswith(".conf"):
                continue
            for line in text.splitlines():
                if "=" in line and not line.lstrip().startswith("#"):
                    k, _, v = line.partition("=")
                    settings[k.strip()] = v.strip()
    return settings


def information_bytes(text: str) -> int | None:
    """A RabbitMQ information unit (536870912, 512MiB, 1GB) in bytes; None when it is not one."""
    m = re.fullmatch(r"(\d+)\s*(kB|KiB|MB|MiB|GB|GiB|TB|TiB|k|K|M|G|T)?", text.strip())
    if not m:
        return None
    return int(m.group(1)) * {None: 1, "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KiB": 2**10,
                              "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "k": 2**10, "K": 2**10, "M": 2**20,
                              "G": 2**30, "T": 2**40}[m.group(2)]


def rabbitmq_violations(objects: list[dict]) -> list[str]:
    """The broker (ADR 0040): a supported RabbitMQ (RABBITMQ_OLDEST_SUPPORTED or later; 3.11 is
    out of support); its memory watermark absolute, in bytes RabbitMQ cannot misread, within
    RABBITMQ_WATERMARK_SHARE of the container's limit (a fraction would be of the memory it
    detects, not necessarily the container's); probes that do not exec anything (each
    `rabbitmq-diagnostics` started a second Erlang VM inside the same limit)."""
    sts = named(objects, "StatefulSet", "rabbitmq")
    if sts is None:
        return []
    out = []
    for c in pod_spec(sts)["containers"]:
        at = where(sts, c)
        version = re.search(r":(\d+)\.(\d+)", c["image"].split("@")[0].rsplit("/", 1)[-1])
        if not version or (int(version.group(1)), int(version.group(2))) < RABBITMQ_OLDEST_SUPPORTED:
            out.append(f"{at}: image {c['image']} is not RabbitMQ "
                       f"{'.'.join(map(str, RABBITMQ_OLDEST_SUPPORTED))} or later")
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if "exec" in c.get(probe, {}):
                out.append(f"{at}: {probe} runs {' '.join(c[probe]['exec'].get('command', []))} inside the "
                           "broker's memory limit")
        conf = rabbitmq_conf(objects, sts, c)
        if "vm_memory_high_watermark.relative" in conf or "vm_memory_high_watermark" in conf:
            out.append(f"{at}: a relative memory watermark, a share of what RabbitMQ detects, not of the container's "
                       "limit")
        absolute = conf.get("vm_memory_high_watermark.absolute")
        watermark = information_bytes(absolute) if absolute else None
        limit = quantity_bytes(c.get("resources", {}).get("limits", {}).get("memory", "0"))
        if watermark is None:
            out.append(f"{at}: no vm_memory_high_watermark.absolute (bytes) in its configuration")
        elif watermark > RABBITMQ_WATERMARK_SHARE * limit:
            out.append(f"{at}: memory watermark {watermark // 2**20} MiB is over {RABBITMQ_WATERMARK_SHARE:.0%} of "
                       f"its {limit // 2**20} MiB limit")
    return out


def image_digest_violations(objects: list[dict], awaiting: dict[str, str] | None = None,
                            ours: tuple[str, ...] = ("ghcr.io/deliveryhub/",)) -> list[str]:
    """Every image not built here (`ours`, tag-pinned by the workflow) is pinned by digest,
    NAME[:TAG]@sha256:<64 hex>: a tag can be moved to other bytes. `awaiting` names images (by
    name, without tag) whose digest could not be read yet, with the reason (ADR 0040)."""
    out = []
    for w in [o for o in objects if o.get("kind") in WORKLOADS + ("DaemonSet",)]:
        for c in containers(w):
            image = c["image"]
            if image.startswith(ours):
                continue
            name = image.split("@")[0].rsplit(":", 1)[0] if ":" in image.split("@")[0].rsplit("/", 1)[-1] \
                else image.split("@")[0]
            if re.fullmatch(r"[^@\s]+@sha256:[0-9a-f]{64}", image):
                continue
            if awaiting and name in awaiting:
                continue
            out.append(f"{where(w, c)}: image {image} is not pinned by digest")
    return out


def workload_selects(objects: list[dict], labels_selector: dict) -> list[dict]:
    """Pod templates' labels of the workloads whose pods a label selector matches."""
    return [w["spec"]["template"] for w in objects if w.get("kind") in WORKLOADS + ("DaemonSet",)
            and matches({"matchLabels": labels_selector}, w["spec"]["template"]["metadata"].get("labels", {}))]


def container_port(template: dict, port) -> int | None:
    for c in template["spec"]["containers"]:
        for p in c.get("ports", []):
            if port in (p.get("name"), p.get("containerPort")):
                return p["containerPort"]
    return None


def peer_authentication_mode(objects: list[dict], labels: dict, port: int) -> str | None:
    """The mTLS mode Istio applies to a pod's port: a PeerAuthentication selecting the pod (its
    port-level mode first), else the namespace's (no selector); None without any."""
    workload = [pa for pa in of_kind(objects, "PeerAuthentication")
                if pa["spec"].get("selector") and matches(pa["spec"]["selector"], labels)]
    namespace_wide = [pa for pa in of_kind(objects, "PeerAuthentication") if not pa["spec"].get("selector")]
    for pa in workload:
        level = pa["spec"].get("portLevelMtls", {}).get(str(port)) or pa["spec"].get("portLevelMtls", {}).get(port)
        if level:
            return level.get("mode")
    for pa in workload + namespace_wide:
        if pa["spec"].get("mtls", {}).get("mode") not in (None, "UNSET"):
            return pa["spec"]["mtls"]["mode"]
    return "PERMISSIVE" if workload or namespace_wide else None


def allows_anonymous(ap: dict, port: int, path: str) -> bool:
    """An ALLOW policy with a rule that a plain-text GET `path` on `port` matches: no source
    identity asked (principals and namespaces need mTLS) and an operation that covers it."""
    for rule in ap["spec"].get("rules", []):
        if any(key in s.get("source", {}) for s in rule.get("from", [])
               for key in ("principals", "namespaces", "requestPrincipals")):
            continue
        for to in rule.get("to", [{}]) or [{}]:
            op = to.get("operation", {})
            if op.get("ports") and str(port) not in [str(p) for p in op["ports"]]:
                continue
            if op.get("methods") and "GET" not in op["methods"]:
                continue
            if op.get("paths") and not any(p == path or (p.endswith("*") and path.startswith(p[:-1]))
                                           for p in op["paths"]):
                continue
            return True
    return False


def scrape_violations(objects: list[dict]) -> list[str]:
    """Every port a ServiceMonitor scrapes in plain HTTP can be scraped (ADR 0040): in the mesh
    the pods' sidecars must accept plain text there (PERMISSIVE or DISABLE, not STRICT: every
    target would be down, DeliveryhubModuleDown firing for good), and where ALLOW policies select
    the pods one must let an anonymous GET of the path in (a plain-text request has no identity)."""
    out = []
    for sm in of_kind(objects, "ServiceMonitor"):
        services = [s for s in of_kind(objects, "Service")
                    if matches(sm["spec"].get("selector", {}), s["metadata"].get("labels", {}))]
        for ep in sm["spec"].get("endpoints", []):
            if ep.get("scheme", "http") != "http" or ep.get("tlsConfig"):
                continue
            for svc in services:
                port = next((p for p in svc["spec"]["ports"] if p.get("name") == ep.get("port")), None)
                if port is None:
                    continue
                for template in workload_selects(objects, svc["spec"]["selector"]):
                    labels = template["metadata"].get("labels", {})
                    number = container_port(template, port.get("targetPort", port["port"]))
                    if number is None:
                        continue
                    at = f"ServiceMonitor {sm['metadata']['name']} -> Service {svc['metadata']['name']} port {number}"
                    mode = peer_authentication_mode(objects, labels, number)
                    if mode == "STRICT":
                        out.append(f"{at}: scraped in plain HTTP, but the sidecar accepts mutual TLS only (STRICT)")
                    allows = [ap for ap in of_kind(objects, "AuthorizationPolicy")
                              if ap["spec"].get("action", "ALLOW") == "ALLOW"
                              and matches(ap["spec"].get("selector", {}), labels)]
                    if allows and not any(allows_anonymous(ap, number, ep.get("path", "/metrics")) for ap in allows):
                        out.append(f"{at}: no ALLOW policy lets an anonymous GET {ep.get('path', '/metrics')} in")
    return list(dict.fromkeys(out))


# --- the deploy job (issue 19, ADR 0040) -----------------------------------------------------

def steps(workflow: dict, job: str) -> list[dict]:
    return workflow.get("jobs", {}).get(job, {}).get("steps", [])


def deploy_settings_violations(workflow: dict, variable: str = "DELIVERYHUB_TRUSTED_PROXIES") -> list[str]:
    """The deploy job sets trusted-proxies from its environment's `variable` with
    tools/k8s/cluster_settings.py (which fails on an unset or wrong value) before it renders
    the overlay it applies."""
    deploy = steps(workflow, "deploy")
    setting = next((i for i, s in enumerate(deploy)
                    if re.search(r"tools/k8s/cluster_settings\.py\s+set\b.*\btrusted-proxies=", s.get("run", ""))), None)
    render = next((i for i, s in enumerate(deploy) if re.search(r"kustomize build", s.get("run", ""))), None)
    out = []
    if setting is None:
        return ["deploy: no step sets trusted-proxies with tools/k8s/cluster_settings.py set"]
    run, env = deploy[setting]["run"], deploy[setting].get("env", {})
    used = set(re.findall(r"\$\{?(\w+)\}?", run.split("trusted-proxies=", 1)[1].split()[0]))
    if not any(re.fullmatch(r"\$\{\{\s*vars\." + variable + r"\s*\}\}", str(env.get(u, ""))) for u in used):
        out.append(f"deploy: the trusted-proxies step does not take vars.{variable}")
    if render is None or render < setting:
        out.append("deploy: the overlay is rendered before trusted-proxies is set")
    return out


def image_pin_violations(workflow: dict, overlays: dict[str, dict], sentinel: str = "unpinned") -> list[str]:
    """The image the workflow pushes is the one the overlays name, tagged with the commit; the
    committed tag is `sentinel`, which no build pushes (a manual apply that skipped
    `kustomize edit set image` fails to pull instead of rolling back to an old release), and the
    deploy job sets the pushed image before it renders."""
    out = []
    names = {}
    for path, k in overlays.items():
        entry = next((i for i in k.get("images", []) if i.get("name") == "deliveryhub"), None)
        if entry is None:
            continue
        names[path] = entry.get("newName")
        if entry.get("newTag") != sentinel or entry.get("digest"):
            out.append(f"{path}: pins deliveryhub to tag {entry.get('newTag')!r}, not {sentinel!r}: no build pushes "
                       "a committed tag")
    if len(set(names.values())) > 1:
        out.append(f"overlays name different deliveryhub images: {names}")
    naming = next((s.get("run", "") for s in steps(workflow, "image") if re.search(r"\bimage=", s.get("run", ""))), "")
    tag = re.search(r"\bimage=\S*?:(\$\{?GITHUB_SHA\}?)[\"'\s]", naming)
    if "k8s/overlays/split/kustomization.yaml" not in naming or not tag:
        out.append("image: the pushed image is not the split overlay's newName tagged with the commit")
    deploy = steps(workflow, "deploy")
    set_image = next((i for i, s in enumerate(deploy)
                      if "kustomize edit set image" in s.get("run", "") and "deliveryhub=" in s.get("run", "")), None)
    render = next((i for i, s in enumerate(deploy) if "kustomize build" in s.get("run", "")), None)
    if set_image is None or render is None or set_image > render:
        out.append("deploy: the overlay is not pinned to the pushed image before it is rendered")
    return out
