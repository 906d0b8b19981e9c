"""The log collection stack's policies (log_policies.py, ADR 0035) over every variant that renders
k8s/components/logging, then each check fed a broken copy to show that it can fail (as
test_policy_checks.py does for policies.py)."""
import copy

import pytest

import log_policies
import policies
from renders import variants

LOGGING = [v for v in variants() if "logging" in v[1:]]
CHECKS = [log_policies.log_label_violations, log_policies.log_path_violations,
          log_policies.host_path_violations, log_policies.collector_mount_violations,
          log_policies.node_agent_violations, log_policies.loki_target_violations]


def test_a_variant_renders_the_logging_stack():
    assert LOGGING, "tests/k8s/variants.txt has no variant with the logging stack"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("variant", LOGGING, ids=lambda v: "+".join(v))
def test_the_logging_stack_complies(renders, variant, check):
    assert log_policies.collector_configs(renders[variant]), "no Fluent Bit configuration mounted by a DaemonSet"
    assert check(renders[variant]) == []


@pytest.mark.parametrize("variant", LOGGING, ids=lambda v: "+".join(v))
def test_the_stack_pushes_with_the_labels_the_runbook_queries_by(renders, variant):
    (_, _, config), = log_policies.collector_configs(renders[variant])
    (loki,) = log_policies.plugins(config, "outputs", "loki")
    assert {name for name, _ in log_policies.loki_labels(loki)} == {"namespace", "container", "service", "level"}


# --- each check fails on a broken copy --------------------------------------------------------

@pytest.fixture
def stack(renders):
    return copy.deepcopy(renders[LOGGING[0]])


def collector(objects):
    return policies.named(objects, "DaemonSet", "fluent-bit")


def config(objects):
    """The parsed configuration and a function that writes it back into the ConfigMap."""
    ds, file, parsed = log_policies.collector_configs(objects)[0]
    name = next(v["configMap"]["name"] for v in policies.pod_spec(ds)["volumes"] if "configMap" in v)
    cm = next(c for c in policies.of_kind(objects, "ConfigMap") if c["metadata"]["name"] == name)

    def save():
        cm["data"][file] = log_policies.yaml.safe_dump(parsed)
    return parsed, save


def loki_output(parsed):
    return log_policies.plugins(parsed, "outputs", "loki")[0]


@pytest.mark.parametrize("labels, expected", [
    ("namespace=$namespace, trace_id=$trace_id", "label trace_id is not one of the low-cardinality labels"),
    ("namespace=$namespace, $request_id", "label request_id is not one"),
    ("namespace=$namespace, pod=$pod", "label pod is not one"),
    ("namespace=$namespace, service=$trace_id", "label service's source field trace_id"),
    ("namespace=$namespace, $kubernetes['labels']['pod-template-hash']", "kubernetes_labels_pod_template_hash"),
])
def test_label_check_catches_a_high_cardinality_label(stack, labels, expected):
    parsed, save = config(stack)
    loki_output(parsed)["labels"] = labels
    save()
    violations = log_policies.log_label_violations(stack)
    assert any(expected in v for v in violations), violations


@pytest.mark.parametrize("key, value, expected", [
    ("label_keys", "$trace_id", "label trace_id"),
    ("auto_kubernetes_labels", "on", "auto_kubernetes_labels"),
    ("label_map_path", "/fluent-bit/etc/map.json", "label_map_path"),
])
def test_label_check_catches_labels_from_elsewhere(stack, key, value, expected):
    parsed, save = config(stack)
    loki_output(parsed)[key] = value
    save()
    violations = log_policies.log_label_violations(stack)
    assert any(expected in v for v in violations), violations


@pytest.mark.parametrize("path", [
    "/var/log/pods/*/*/*.log",                      # every namespace
    "/var/log/pods/deliveryhub*/*/*.log",           # deliveryhub-staging too
    "/var/log/containers/*.log",
    "/var/log/pods/deliveryhub_*/../../*/*/*.log",
    "/var/log/pods/deliveryhub_*/*/*.log, /var/log/syslog",
])
def test_path_check_catches_logs_beyond_the_namespace(stack, path):
    parsed, save = config(stack)
    log_policies.plugins(parsed, "inputs", "tail")[0]["path"] = path
    save()
    violations = log_policies.log_path_violations(stack)
    assert any("not only namespace deliveryhub's pod logs" in v for v in violations), violations


def test_path_check_catches_another_input(stack):
    parsed, save = config(stack)
    parsed["pipeline"]["inputs"].append({"name": "systemd", "tag": "host.*"})
    save()
    assert any("input systemd reads more" in v for v in log_policies.log_path_violations(stack))


def test_the_path_check_reads_kubelets_paths_as_they_are():
    wanted = log_policies.re.compile(log_policies.KUBELET_LOG_PATH.format(namespace="deliveryhub"))
    assert wanted.match("/var/log/pods/deliveryhub_*/*/*.log")
    assert not wanted.match("/var/log/pods/deliveryhub-staging_*/*/*.log")


def mount(objects, volume):
    return next(m for m in policies.pod_spec(collector(objects))["containers"][0]["volumeMounts"]
                if m["name"] == volume)


def volume(objects, name):
    return next(v for v in policies.pod_spec(collector(objects))["volumes"] if v["name"] == name)


@pytest.mark.parametrize("breakage, expected", [
    (lambda o: mount(o, "pod-logs").pop("readOnly"), "mounts /var/log/pods writable"),
    (lambda o: mount(o, "pod-logs").update(readOnly=False), "mounts /var/log/pods writable"),
    (lambda o: mount(o, "pod-logs").update(mountPath="/logs"), "at /logs"),
    (lambda o: volume(o, "pod-logs")["hostPath"].update(path="/var/log"), "the node's /var/log, neither"),
    (lambda o: volume(o, "state")["hostPath"].update(path="/"), "the node's /, neither"),
    (lambda o: policies.pod_spec(policies.named(o, "StatefulSet", "loki"))["volumes"].append(
        {"name": "host", "hostPath": {"path": "/var/log/pods"}}), "StatefulSet loki: mounts node paths"),
])
def test_host_path_check_catches(stack, breakage, expected):
    breakage(stack)
    violations = log_policies.host_path_violations(stack)
    assert any(expected in v for v in violations), violations


def test_mount_check_catches_offsets_on_no_node_path(stack):
    parsed, save = config(stack)
    log_policies.plugins(parsed, "inputs", "tail")[0]["db"] = "/tmp/tail.db"
    save()
    assert any("is not on a writable node state directory" in v for v in log_policies.collector_mount_violations(stack))


def test_mount_check_catches_logs_that_are_not_mounted(stack):
    policies.pod_spec(collector(stack))["containers"][0]["volumeMounts"].remove(mount(stack, "pod-logs"))
    assert any("which no node path is mounted at" in v for v in log_policies.collector_mount_violations(stack))


@pytest.mark.parametrize("breakage, expected", [
    (lambda c, s: c["securityContext"].update(privileged=True), "privileged"),
    (lambda c, s: c["securityContext"].update(allowPrivilegeEscalation=True), "allowPrivilegeEscalation"),
    (lambda c, s: c["securityContext"]["capabilities"].update(add=["DAC_READ_SEARCH"]), "adds capabilities"),
    (lambda c, s: c["securityContext"].update(capabilities={}), "do not drop ALL"),
    (lambda c, s: c["securityContext"].update(readOnlyRootFilesystem=False), "not read-only"),
    (lambda c, s: c["resources"].pop("limits"), "no memory in resources.limits"),
    (lambda c, s: c.pop("readinessProbe"), "no readinessProbe"),
    (lambda c, s: c.update(image="cr.fluentbit.io/fluent/fluent-bit:latest"), "tagged latest"),
    (lambda c, s: s.update(hostNetwork=True), "hostNetwork"),
    (lambda c, s: s.update(automountServiceAccountToken=True), "mounts an API token"),
    (lambda c, s: s.update(tolerations=[]), "does not tolerate every taint"),
])
def test_node_agent_check_catches(stack, breakage, expected):
    spec = policies.pod_spec(collector(stack))
    breakage(spec["containers"][0], spec)
    violations = log_policies.node_agent_violations(stack)
    assert any(expected in v for v in violations), violations


@pytest.mark.parametrize("breakage, expected", [
    (lambda o, p: loki_output(p).update(host="loki.monitoring.svc.cluster.local"), "not in namespace monitoring"),
    (lambda o, p: p["env"].update(loki_port=80), "has no port 80"),
    (lambda o, p: policies.named(o, "NetworkPolicy", "fluent-bit-to-loki")["spec"]["egress"][0]["ports"][0].update(
        port=3101), "lets the collector out"),
    (lambda o, p: policies.named(o, "NetworkPolicy", "loki-from-fluent-bit-and-grafana")["spec"]["ingress"].pop(0),
     "lets the collector in"),
])
def test_loki_target_check_catches(stack, breakage, expected):
    parsed, save = config(stack)
    breakage(stack, parsed)
    save()
    violations = log_policies.loki_target_violations(stack)
    assert any(expected in v for v in violations), violations


def test_namespace_check_catches_a_lax_collector_namespace_and_a_deployment_there(stack):
    ns = policies.named(stack, "Namespace", "logging")
    ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "restricted"
    d = copy.deepcopy(policies.named(stack, "Deployment", "orders"))
    d["metadata"]["namespace"] = "logging"
    stack.append(d)
    assert sorted(v for v in policies.namespace_violations(stack) if "logging" in v) == [
        "Deployment orders: runs pods in logging, whose Pod Security is privileged for the log collector's sake",
        "Namespace logging: Pod Security privileged not enforced"]
