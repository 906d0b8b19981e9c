"""Policy checks of the log collection stack (k8s/components/logging, ADR 0035) over rendered
objects, in the manner of policies.py: each returns a list of violations, [] when the objects
comply. test_log_policies.py applies them to every variant that renders the stack and feeds each
one a broken copy to show that it can fail.

The collector's configuration is Fluent Bit's YAML format, read from the ConfigMap that the
DaemonSet mounts (kustomize's hashed name), so what is checked is what a cluster would get.
"""
from __future__ import annotations

import posixpath
import re

import yaml

import policies

# Stream labels Loki may get: each has a handful of values (one namespace, a few containers, the
# modules, six levels). An id (trace_id, request_id, order_id), the pod's name or anything else
# that grows with traffic or with rollouts makes a stream per value and swamps Loki's index; it
# stays in the line, for `| json` to read at query time.
LOW_CARDINALITY_LABELS = {"job", "namespace", "container", "service", "level", "stream"}
POD_LOGS = "/var/log/pods"
# The collector's own state (its tail offsets): the one node path it may write.
STATE_DIRS = ("/var/lib/fluent-bit-deliveryhub",)
KUBELET_LOG_PATH = r"^/var/log/pods/{namespace}_[^/]*/[^/]*/[^/]*\.log$"


def pod_templates(objects: list[dict]) -> list[dict]:
    return [o for o in objects if o.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job")]


def collector_configs(objects: list[dict]) -> list[tuple[dict, str, dict]]:
    """(DaemonSet, file name, parsed config) for every Fluent Bit YAML configuration a
    DaemonSet's ConfigMap volume holds (a file with a `pipeline` section)."""
    out = []
    for ds in policies.of_kind(objects, "DaemonSet"):
        namespace = ds["metadata"].get("namespace")
        for v in policies.pod_spec(ds).get("volumes", []):
            name = v.get("configMap", {}).get("name")
            cm = next((c for c in policies.of_kind(objects, "ConfigMap")
                       if c["metadata"]["name"] == name and c["metadata"].get("namespace") == namespace), None)
            for file, text in (cm or {}).get("data", {}).items():
                if file.endswith((".yaml", ".yml")):
                    config = yaml.safe_load(text)
                    if isinstance(config, dict) and "pipeline" in config:
                        out.append((ds, file, config))
    return out


def substitute(config: dict, value) -> str:
    """A property as Fluent Bit reads it: ${VAR} from the config's `env` section."""
    env = {k: str(v) for k, v in (config.get("env") or {}).items()}
    return re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), m.group(0)), str(value))


def plugins(config: dict, section: str, name: str | None = None) -> list[dict]:
    found = (config.get("pipeline") or {}).get(section) or []
    return [p for p in found if name is None or str(p.get("name")).lower() == name]


def clist(value) -> list[str]:
    """A Fluent Bit comma-separated list property."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(i).strip() for i in items if str(i).strip()]


def accessor_name(pattern: str) -> str:
    """The label name Fluent Bit's loki output gives `$a['b']`: the keys joined by `_`."""
    return "_".join(re.findall(r"[\w.-]+", pattern.lstrip("$"))).replace(".", "_").replace("-", "_")


def loki_labels(output: dict) -> list[tuple[str, str | None]]:
    """(label name, record key it is read from, or None for a fixed value) of a loki output's
    `labels` and `label_keys`."""
    out = []
    for entry in clist(output.get("labels")) + clist(output.get("label_keys")):
        if entry.startswith("$"):
            out.append((accessor_name(entry), accessor_name(entry)))
        elif "=" in entry:
            key, value = (s.strip() for s in entry.split("=", 1))
            out.append((key, accessor_name(value) if value.startswith("$") else None))
        else:
            out.append((entry, None))
    return out


# --- the checks -----------------------------------------------------------------------------

def log_label_violations(objects: list[dict]) -> list[str]:
    """Every loki output of a collector labels its streams with low-cardinality names only, read
    from low-cardinality fields only (no `service=$trace_id`), and adds no labels it cannot see
    here (`auto_kubernetes_labels` brings every pod label, pod-template-hash included;
    `label_map_path` a file)."""
    out = []
    for ds, file, config in collector_configs(objects):
        for o in plugins(config, "outputs", "loki"):
            at = f"DaemonSet {ds['metadata']['name']} {file}, output loki"
            for label, source in loki_labels(o):
                for name, what in ((label, "label"), (source, f"label {label}'s source field")):
                    if name is not None and name not in LOW_CARDINALITY_LABELS:
                        out.append(f"{at}: {what} {name} is not one of the low-cardinality labels "
                                   f"{sorted(LOW_CARDINALITY_LABELS)}: ids stay in the line, for `| json`")
            if str(o.get("auto_kubernetes_labels", "false")).lower() in ("true", "on", "yes", "1"):
                out.append(f"{at}: auto_kubernetes_labels makes every pod label a stream label")
            if o.get("label_map_path"):
                out.append(f"{at}: label_map_path adds labels from a file these checks cannot see")
        if not plugins(config, "outputs", "loki"):
            out.append(f"DaemonSet {ds['metadata']['name']} {file}: no loki output")
    return out


def log_path_violations(objects: list[dict], namespace: str = "deliveryhub") -> list[str]:
    """A collector reads the log files of `namespace`'s containers and nothing else of the node:
    its only inputs are `tail`s of kubelet's /var/log/pods/<namespace>_<pod>_<uid>/<container>/
    files (`_` cannot occur in a namespace's name, so `deliveryhub_*` is that namespace only)."""
    out = []
    wanted = re.compile(KUBELET_LOG_PATH.format(namespace=re.escape(namespace)))
    for ds, file, config in collector_configs(objects):
        at = f"DaemonSet {ds['metadata']['name']} {file}"
        inputs = plugins(config, "inputs")
        if not inputs:
            out.append(f"{at}: no input")
        for i in inputs:
            if str(i.get("name")).lower() != "tail":
                out.append(f"{at}: input {i.get('name')} reads more than {namespace}'s log files")
                continue
            paths = clist(substitute(config, i.get("path", "")))
            if not paths:
                out.append(f"{at}: a tail without a path")
            for path in paths:
                if ".." in path.split("/") or not wanted.match(path):
                    out.append(f"{at}: tails {path}, not only namespace {namespace}'s pod logs "
                               f"(/var/log/pods/{namespace}_*/…)")
    return out


def host_path_violations(objects: list[dict], state_dirs: tuple[str, ...] = STATE_DIRS) -> list[str]:
    """Only DaemonSets mount node paths, and only /var/log/pods — read-only in every container
    that mounts it, at the same path — and their own state directory (`state_dirs`, the one
    writable node path)."""
    out = []
    for w in pod_templates(objects):
        name = f"{w['kind']} {w['metadata']['name']}"
        spec = policies.pod_spec(w)
        host = {v["name"]: v["hostPath"] for v in spec.get("volumes", []) if "hostPath" in v}
        if host and w["kind"] != "DaemonSet":
            out.append(f"{name}: mounts node paths {sorted(h['path'] for h in host.values())}")
            continue
        for volume, h in host.items():
            path = posixpath.normpath(h["path"])
            if path != POD_LOGS and path not in state_dirs:
                out.append(f"{name}: volume {volume} mounts the node's {h['path']}, neither {POD_LOGS} "
                           f"nor the collector's state directory")
            for c in policies.containers(w):
                for m in [m for m in c.get("volumeMounts", []) if m["name"] == volume]:
                    if path == POD_LOGS and m.get("readOnly") is not True:
                        out.append(f"{policies.where(w, c)}: mounts {h['path']} writable")
                    if path == POD_LOGS and m["mountPath"].rstrip("/") != POD_LOGS:
                        out.append(f"{policies.where(w, c)}: mounts {h['path']} at {m['mountPath']}; the "
                                   "collector's path parser reads kubelet's paths as they are")
                    if m.get("subPath") or m.get("subPathExpr"):
                        out.append(f"{policies.where(w, c)}: mounts a subPath of the node's {h['path']}")
    return out


def collector_mount_violations(objects: list[dict]) -> list[str]:
    """The configuration agrees with the DaemonSet's mounts: the files it tails are under the
    read-only /var/log/pods mount, and its tail offsets (`db`) under a writable mount of a node
    state directory — on the read-only root filesystem they could not be written, and in an
    emptyDir they would die with the pod, which then re-sends or skips lines."""
    out = []
    for ds, file, config in collector_configs(objects):
        spec = policies.pod_spec(ds)
        host = {v["name"]: v["hostPath"]["path"] for v in spec.get("volumes", []) if "hostPath" in v}
        mounts = [(m["mountPath"].rstrip("/"), host.get(m["name"]), m.get("readOnly") is True)
                  for c in spec["containers"] for m in c.get("volumeMounts", [])]

        def under(path: str, writable: bool) -> bool:
            return any(node is not None and (not writable or not ro) and
                       (path == mount or path.startswith(mount + "/")) for mount, node, ro in mounts)

        at = f"DaemonSet {ds['metadata']['name']} {file}"
        for i in plugins(config, "inputs", "tail"):
            for path in clist(substitute(config, i.get("path", ""))):
                if not under(path, writable=False):
                    out.append(f"{at}: tails {path}, which no node path is mounted at")
            db = i.get("db")
            if not db:
                out.append(f"{at}: a tail without `db`: a new pod would re-send or skip lines")
            elif not under(substitute(config, db), writable=True):
                out.append(f"{at}: the tail's db {db} is not on a writable node state directory")
    return out


def node_agent_violations(objects: list[dict]) -> list[str]:
    """DaemonSets run as restricted as a reader of node files can: probes, requests and limits,
    a pinned image, not privileged, no privilege escalation, every capability dropped and none
    added, a read-only root filesystem, the runtime's seccomp profile, none of the node's
    network, PID or IPC namespaces, no Kubernetes API token, and every taint tolerated (a
    deliveryhub pod on a tainted node must not leave its logs behind). uid 0 is allowed here:
    the runtime writes the log files for root only (ADR 0035)."""
    out = []
    for ds in policies.of_kind(objects, "DaemonSet"):
        name = f"DaemonSet {ds['metadata']['name']}"
        spec = policies.pod_spec(ds)
        pod_sc = spec.get("securityContext", {})
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(key):
                out.append(f"{name}: {key}")
        account = policies.named([o for o in objects if o["metadata"].get("namespace") == ds["metadata"].get(
            "namespace")], "ServiceAccount", spec.get("serviceAccountName", "default"))
        # The pod's setting wins over its ServiceAccount's; unset on both, the token is mounted.
        automount = spec.get("automountServiceAccountToken", (account or {}).get("automountServiceAccountToken", True))
        if automount is not False:
            out.append(f"{name}: mounts an API token (the collector needs no API)")
        if not any(t.get("operator") == "Exists" and "key" not in t and "effect" not in t
                   for t in spec.get("tolerations", [])):
            out.append(f"{name}: does not tolerate every taint")
        for c in policies.containers(ds):
            at = policies.where(ds, c)
            sc = c.get("securityContext", {})
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in c:
                    out.append(f"{at}: no {probe}")
            if sc.get("privileged"):
                out.append(f"{at}: privileged")
            if sc.get("readOnlyRootFilesystem") is not True:
                out.append(f"{at}: root filesystem not read-only")
            out += policies.container_hardening_violations(c, pod_sc, at)
    return out


def _port_number(workloads: list[dict], selector: dict, target) -> int | None:
    """A Service's targetPort as a number: itself, or the named container port of its pods."""
    if isinstance(target, int):
        return target
    for w in workloads:
        if policies.matches(selector, w["spec"]["template"]["metadata"].get("labels", {})):
            for c in policies.containers(w):
                for p in c.get("ports", []):
                    if p.get("name") == target:
                        return p["containerPort"]
    return None


def _allows(rule: dict, side: str, peer_labels: dict, peer_ns: str, own_ns: str, port: int) -> bool:
    """A NetworkPolicy rule lets a pod with `peer_labels` in `peer_ns` through on `port`."""
    if rule.get("ports") and not any(p.get("port") in (port, None) for p in rule["ports"]):
        return False
    peers = rule.get(side)
    if not peers:
        return True
    for p in peers:
        if "ipBlock" in p:
            continue
        ns_ok = (policies.matches(p["namespaceSelector"], {"kubernetes.io/metadata.name": peer_ns})
                 if "namespaceSelector" in p else peer_ns == own_ns)
        if ns_ok and policies.matches(p.get("podSelector", {}), peer_labels):
            return True
    return False


def loki_target_violations(objects: list[dict]) -> list[str]:
    """Each loki output pushes to a Service of the render, on one of its ports, whose pods
    exist; a NetworkPolicy lets the collector's pods out to those pods on that port, and one lets
    them in (both namespaces deny by default)."""
    out = []
    workloads = [o for o in objects if o.get("kind") in ("Deployment", "StatefulSet")]
    for ds, file, config in collector_configs(objects):
        ds_ns = ds["metadata"].get("namespace")
        ds_labels = ds["spec"]["template"]["metadata"].get("labels", {})
        for o in plugins(config, "outputs", "loki"):
            at = f"DaemonSet {ds['metadata']['name']} {file}, output loki"
            host, port = substitute(config, o.get("host", "127.0.0.1")), int(substitute(config, o.get("port", 3100)))
            m = re.fullmatch(r"([a-z0-9-]+)(?:\.([a-z0-9-]+)(?:\.svc(?:\.cluster\.local)?)?)?\.?", host)
            if not m:
                out.append(f"{at}: host {host} is not a Service name")
                continue
            svc_name, svc_ns = m.group(1), m.group(2) or ds_ns
            svc = next((s for s in policies.of_kind(objects, "Service") if s["metadata"]["name"] == svc_name
                        and s["metadata"].get("namespace") == svc_ns), None)
            if svc is None:
                out.append(f"{at}: Service {svc_name} is not in namespace {svc_ns} of the render")
                continue
            service_port = next((p for p in svc["spec"].get("ports", []) if p["port"] == port), None)
            if service_port is None:
                out.append(f"{at}: Service {svc_name} has no port {port}")
                continue
            selector = {"matchLabels": svc["spec"].get("selector", {})}
            pods = [w for w in workloads if w["metadata"].get("namespace") == svc_ns
                    and policies.matches(selector, w["spec"]["template"]["metadata"].get("labels", {}))]
            if not pods:
                out.append(f"{at}: Service {svc_name} selects no pods of the render")
                continue
            target = _port_number(pods, selector, service_port.get("targetPort", port))
            loki_labels_ = pods[0]["spec"]["template"]["metadata"]["labels"]
            policies_ = policies.of_kind(objects, "NetworkPolicy")
            egress = any(_allows(r, "to", loki_labels_, svc_ns, ds_ns, target)
                         for np in policies_ if np["metadata"].get("namespace") == ds_ns
                         and policies.matches(np["spec"]["podSelector"], ds_labels)
                         for r in np["spec"].get("egress", []))
            ingress = any(_allows(r, "from", ds_labels, ds_ns, svc_ns, target)
                          for np in policies_ if np["metadata"].get("namespace") == svc_ns
                          and policies.matches(np["spec"]["podSelector"], loki_labels_)
                          for r in np["spec"].get("ingress", []))
            if not egress:
                out.append(f"{at}: no NetworkPolicy lets the collector out to {svc_name}'s pods on {target}")
            if not ingress:
                out.append(f"{at}: no NetworkPolicy lets the collector in to {svc_name}'s pods on {target}")
    return out
