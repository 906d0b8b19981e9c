"""Each policy check of policies.py fails on a broken input: a check that cannot fail is worthless.

Every test takes a copy of a compliant render (split with istio and monitoring, or single; the
split one with k8s/cluster's Namespace and backup claim, applied beside it), breaks one thing and
expects the check to name it.
"""
import copy
import re

import pytest
import yaml

import policies
from renders import ROOT

SPLIT = ("split-istio", "monitoring")
SINGLE = ("single",)
CHAOS = ("split-istio", "istio-chaos")


@pytest.fixture
def split(renders, cluster_render):
    return copy.deepcopy(renders[SPLIT] + cluster_render)


@pytest.fixture
def single(renders):
    return copy.deepcopy(renders[SINGLE])


@pytest.fixture
def chaos(renders):
    return copy.deepcopy(renders[CHAOS])


def deployment(objects, name):
    return policies.named(objects, "Deployment", name)


def container(objects, name):
    return policies.pod_spec(deployment(objects, name))["containers"][0]


def test_the_unbroken_renders_comply(split, single, spec, nginx_template):
    assert policies.container_violations(split) == []
    assert policies.ingress_violations(single, nginx_template, split=False) == []
    assert policies.network_policy_violations(split, spec, split=True) == []


@pytest.mark.parametrize("breakage, expected", [
    (lambda c: c.pop("readinessProbe"), "no readinessProbe"),
    (lambda c: c.pop("startupProbe"), "no startupProbe"),
    (lambda c: c["livenessProbe"]["httpGet"].update(path="/readyz"), "not /livez"),
    (lambda c: c["readinessProbe"]["httpGet"].update(port="http"), "not the operations port"),
    (lambda c: c["startupProbe"]["httpGet"].update(port=8080), "not the operations port"),
    (lambda c: c.pop("lifecycle"), "no preStop"),
    (lambda c: c["resources"].pop("limits"), "no cpu in resources.limits"),
    (lambda c: c["resources"]["requests"].pop("memory"), "no memory in resources.requests"),
    (lambda c: c["securityContext"].update(allowPrivilegeEscalation=True), "allowPrivilegeEscalation"),
    (lambda c: c["securityContext"].update(capabilities={"drop": ["NET_RAW"]}), "do not drop ALL"),
    (lambda c: c["securityContext"].update(capabilities={"drop": ["ALL"], "add": ["NET_ADMIN"]}), "adds"),
    (lambda c: c["securityContext"].update(readOnlyRootFilesystem=False), "not read-only"),
    (lambda c: c["securityContext"].update(runAsUser=0), "uid 0"),
    (lambda c: c.update(image="ghcr.io/deliveryhub/deliveryhub:latest"), "tagged latest"),
    (lambda c: c.update(image="ghcr.io/deliveryhub/deliveryhub"), "has no tag"),
])
def test_container_check_catches(split, breakage, expected):
    breakage(container(split, "orders"))
    violations = policies.container_violations(split)
    assert any("Deployment orders" in v and expected in v for v in violations), violations


def test_container_check_sees_the_pod_level_settings(split):
    c = container(split, "orders")
    c["securityContext"].pop("runAsNonRoot")
    c["securityContext"].pop("seccompProfile")
    assert policies.container_violations(split) == []  # still set for the pod
    pod = policies.pod_spec(deployment(split, "orders"))["securityContext"]
    pod.pop("runAsNonRoot")
    pod.pop("seccompProfile")
    violations = policies.container_violations(split)
    assert any("runAsNonRoot" in v for v in violations) and any("seccomp" in v for v in violations)


def test_container_check_covers_the_stores(split):
    postgres = policies.named(split, "StatefulSet", "postgres")
    policies.pod_spec(postgres)["containers"][0].pop("livenessProbe")
    assert any("StatefulSet postgres" in v for v in policies.container_violations(split))


def test_pdb_check_catches_a_missing_or_mismatched_budget(split):
    split.remove(policies.named(split, "PodDisruptionBudget", "orders"))
    policies.named(split, "PodDisruptionBudget", "delivery")["spec"]["selector"]["matchLabels"][
        policies.COMPONENT] = "deliveries"
    assert sorted(policies.pdb_violations(split)) == [
        "Deployment delivery: no PodDisruptionBudget selects its pods",
        "Deployment orders: no PodDisruptionBudget selects its pods"]


def test_grace_check_catches_a_period_shorter_than_the_drain(split):
    policies.pod_spec(deployment(split, "payments"))["terminationGracePeriodSeconds"] = 14
    assert any("Deployment payments" in v for v in policies.grace_violations(split))


def test_grace_check_reads_the_drain_from_the_config_map(split):
    policies.named(split, "ConfigMap", "deliveryhub-config")["data"]["DELIVERYHUB_SHUTDOWN_GRACE"] = "25"
    assert len(policies.grace_violations(split)) == 5


def pod_annotations(objects, name):
    return deployment(objects, name)["spec"]["template"]["metadata"]["annotations"]


@pytest.mark.parametrize("breakage, expected", [
    (lambda a: a.pop("proxy.istio.io/config"), "no proxy.istio.io/config"),
    (lambda a: a.update({"proxy.istio.io/config": '{"terminationDrainDuration": "5s"}'}), "not longer than preStop"),
    (lambda a: a.update({"proxy.istio.io/config": '{"terminationDrainDuration": "15s"}'}), "not longer than preStop"),
    (lambda a: a.update({"proxy.istio.io/config": "terminationDrainDuration: 1m"}), "beyond terminationGracePeriodSeconds"),
    (lambda a: a.update({"proxy.istio.io/config": '{"terminationDrainDuration": "20"}'}), "no valid"),
    (lambda a: a.update({"proxy.istio.io/config": '{"drainDuration": "20s"}'}), "no valid"),
])
def test_sidecar_drain_check_catches(split, breakage, expected):
    assert policies.sidecar_drain_violations(split) == []
    breakage(pod_annotations(split, "delivery"))
    violations = policies.sidecar_drain_violations(split)
    assert violations and all("Deployment delivery" in v for v in violations), violations
    assert any(expected in v for v in violations), violations


def test_sidecar_drain_check_reads_the_drain_from_the_config_map(split):
    policies.named(split, "ConfigMap", "deliveryhub-config")["data"]["DELIVERYHUB_SHUTDOWN_GRACE"] = "15"
    assert len(policies.sidecar_drain_violations(split)) == 5


def test_go_durations_are_read_as_istio_reads_them():
    assert [policies.go_duration_seconds(t) for t in ("20s", "1m30s", "500ms", "1h", "20", "s", "20 s")] == [
        20, 90, 0.5, 3600, None, None, None]


def test_topology_check_catches_a_missing_spread_and_ignored_taints(split):
    policies.pod_spec(deployment(split, "orders")).pop("topologySpreadConstraints")
    policies.pod_spec(deployment(split, "payments"))["topologySpreadConstraints"][0].pop("nodeTaintsPolicy")
    assert sorted(policies.topology_spread_violations(split)) == [
        "Deployment orders: its pods are not spread across nodes",
        "Deployment payments: nodeTaintsPolicy is None, not Honor: tainted and cordoned nodes count in the skew"]


def test_jwt_key_check_catches_a_missing_or_unmounted_verify_key(split, single):
    env = container(split, "customers")["env"]
    env.remove(next(e for e in env if e["name"] == "DELIVERYHUB_JWT_VERIFY_KEY_FILES"))
    assert policies.jwt_key_violations(split) == [
        "Deployment customers, container deliveryhub: signs tokens but sets no DELIVERYHUB_JWT_VERIFY_KEY_FILES"]
    jwt = next(v for v in policies.pod_spec(deployment(single, "deliveryhub"))["volumes"] if v["name"] == "jwt")
    jwt["secret"]["items"] = [i for i in jwt["secret"]["items"] if i["key"] != "jwt-verify-key.pem"]
    assert policies.jwt_key_violations(single) == [
        "Deployment deliveryhub, container deliveryhub: /etc/deliveryhub/jwt/verify-key.pem is not a file of a "
        "Secret volume mounted there"]


def test_jwt_key_check_catches_a_verify_key_that_is_the_signing_key(single):
    jwt = next(v for v in policies.pod_spec(deployment(single, "deliveryhub"))["volumes"] if v["name"] == "jwt")
    next(i for i in jwt["secret"]["items"] if i["path"] == "verify-key.pem")["key"] = "jwt-signing-key.pem"
    assert policies.jwt_key_violations(single) == [
        "Deployment deliveryhub, container deliveryhub: the verify key /etc/deliveryhub/jwt/verify-key.pem is the "
        "signing key's Secret key jwt-signing-key.pem"]


@pytest.mark.parametrize("breakage, expected", [
    (lambda h, d: h["spec"]["scaleTargetRef"].update(name="order"), "not in the render"),
    (lambda h, d: d["spec"].update(replicas=2), "sets replicas"),
    (lambda h, d: h["spec"].pop("behavior"), "no scale-down"),
    (lambda h, d: h["spec"].update(maxReplicas=20), "is not"),
])
def test_hpa_check_catches(split, spec, breakage, expected):
    breakage(policies.named(split, "HorizontalPodAutoscaler", "orders"), deployment(split, "orders"))
    wanted = {m: s["hpa"] for m, s in spec["modules"].items() if "hpa" in s}
    assert any(expected in v for v in policies.hpa_violations(split, wanted))


def test_hpa_check_catches_a_missing_hpa(split, spec):
    split.remove(policies.named(split, "HorizontalPodAutoscaler", "delivery"))
    wanted = {m: s["hpa"] for m, s in spec["modules"].items() if "hpa" in s}
    assert policies.hpa_violations(split, wanted) == ["HPA delivery: missing"]


def test_ingress_check_catches_a_missing_extra_or_misrouted_path(split, single, nginx_template):
    paths = policies.named(split, "Ingress", "orders")["spec"]["rules"][0]["http"]["paths"]
    paths[0]["backend"]["service"]["name"] = "payments"
    paths.append({"path": "/internal/", "pathType": "Prefix", "backend": {"service": {"name": "orders"}}})
    violations = policies.ingress_violations(split, nginx_template, split=True)
    assert any("/internal/" in v for v in violations)
    assert any("goes to payments, not orders" in v for v in violations)
    single_paths = policies.named(single, "Ingress", "deliveryhub")["spec"]["rules"][0]["http"]["paths"]
    single_paths.pop()
    assert any("not config/nginx's" in v for v in policies.ingress_violations(single, nginx_template, split=False))


def test_ingress_check_catches_a_host_without_tls(split, nginx_template):
    policies.named(split, "Ingress", "orders")["spec"].pop("tls")
    assert any("without TLS" in v for v in policies.ingress_violations(split, nginx_template, split=True))


def test_nginx_routes_are_read_from_the_template(nginx_template):
    routes = policies.nginx_routes(nginx_template)
    assert routes["/oauth/"] == "customers" and routes["/api/v1/orders"] == "orders"
    assert "/" not in routes and "/livez" not in routes and len(routes) == 11


def test_network_policy_check_catches_an_extra_edge(split, spec):
    rule = policies.named(split, "NetworkPolicy", "orders-calls")["spec"]["ingress"][0]
    rule["from"][0]["podSelector"]["matchExpressions"][0]["values"].append("payments")
    assert policies.network_policy_violations(split, spec, split=True) == [
        "NetworkPolicy ingress allows payments -> orders, not an edge of k8s/modules.yaml"]


def test_network_policy_check_catches_a_missing_edge(split, spec):
    egress = policies.named(split, "NetworkPolicy", "incidents-calls")["spec"]["egress"][0]
    egress["to"][0]["podSelector"]["matchExpressions"][0]["values"].remove("delivery")
    assert policies.network_policy_violations(split, spec, split=True) == [
        "NetworkPolicy egress misses the edge incidents -> delivery"]


def test_network_policy_check_catches_a_policy_open_to_every_pod(split, spec):
    policies.named(split, "NetworkPolicy", "allow-dns")["spec"]["egress"][0].pop("ports")
    policies.named(split, "NetworkPolicy", "allow-dns")["spec"]["egress"][0].pop("to")
    assert any("not an edge" in v for v in policies.network_policy_violations(split, spec, split=True))


def test_network_policy_check_wants_no_module_edges_in_the_single_shape(split, spec):
    assert policies.network_policy_violations(split, spec, split=False)


def test_graph_check_catches_the_spec_and_the_graph_disagreeing(spec, graph):
    graph = copy.deepcopy(graph)
    next(m for m in graph["modules"] if m["name"] == "delivery")["calls"].append("payments")
    assert policies.graph_code_violations(spec, graph) == [
        "delivery: api edges ['customers'], the graph's ['customers', 'payments']"]
    spec = copy.deepcopy(spec)
    graph = {"modules": [{**m, "calls": [c for c in m["calls"] if c != "payments"] if m["name"] == "delivery"
                          else m["calls"]} for m in graph["modules"]]}
    spec["modules"]["payments"]["calls"] = {}
    spec["modules"]["incidents"]["calls"]["customers"] = ["jwks"]
    assert sorted(policies.graph_code_violations(spec, graph)) == [
        "incidents: calls customers but has no service-token edge to customers",
        "incidents: no suspensions edge to customers, but it must refuse suspended accounts",
        "payments: calls customers but has no service-token edge to customers",
        "payments: no jwks edge to customers, but it validates tokens with the keys of customers",
        "payments: no suspensions edge to customers, but it must refuse suspended accounts"]


def test_remote_check_catches_a_missing_or_wrong_remote(split, spec):
    args = container(split, "orders")["args"]
    i = args.index("payments=http://payments:8080")
    del args[i - 1:i + 1]
    container(split, "delivery")["args"][-1] = "customers=http://customer:8080"
    container(split, "incidents")["args"][2] = "orders"
    violations = policies.remote_violations(split, spec)
    assert any("Deployment orders" in v and "--remote for" in v for v in violations)
    assert any("customer:8080 is not a Service" in v for v in violations)
    assert any("does not run --modules incidents" in v for v in violations)


def test_secret_check_catches_a_key_not_in_the_template(split, secret_template):
    env = container(split, "orders")["env"]
    next(e for e in env if e["name"] == "DH_DB_PASSWORD")["valueFrom"]["secretKeyRef"]["key"] = "db-password"
    assert policies.secret_key_violations(split, secret_template) == [
        "Deployment orders, container deliveryhub: DH_DB_PASSWORD reads key db-password, not in the template"]


def test_metric_check_catches_a_name_the_code_does_not_export():
    exported = {"deliveryhub_http_requests_total"}
    assert policies.metric_violations({"alert X": "rate(deliveryhub_http_request_total[5m])"}, exported) == [
        "alert X: deliveryhub_http_request_total is not exported by src/"]


def test_postgres_check_catches_too_few_connections(split):
    postgres = policies.pod_spec(policies.named(split, "StatefulSet", "postgres"))["containers"][0]
    postgres["args"] = [re.sub(r"max_connections=\d+", "max_connections=100", a) for a in postgres["args"]]
    assert any("max_connections 100 <" in v for v in policies.postgres_connection_violations(split))


def test_threads_follow_the_cpu_limit_unless_set(split):
    orders = [c for c in policies.containers(deployment(split, "orders")) if policies.is_deliveryhub(c)][0]
    assert policies.config_value(split, orders, "DELIVERYHUB_WORKER_THREADS") is None
    assert policies.thread_counts(split, orders) == (4, 1)  # a limit of 1 CPU
    orders["resources"]["limits"]["cpu"] = "8"
    assert policies.thread_counts(split, orders) == (16, 2)
    orders["resources"]["limits"]["cpu"] = "1500m"
    assert policies.thread_counts(split, orders) == (4, 1)
    orders["env"] = orders.get("env", []) + [{"name": "DELIVERYHUB_WORKER_THREADS", "value": "9"}]
    assert policies.thread_counts(split, orders)[0] == 9
    # More CPU for orders means more connections: the check notices.
    orders["resources"]["limits"]["cpu"] = "64"
    orders["env"] = [e for e in orders["env"] if e["name"] != "DELIVERYHUB_WORKER_THREADS"]
    assert any("max_connections" in v for v in policies.postgres_connection_violations(split))


def test_namespace_check_catches_a_stray_object_and_a_lax_namespace(split):
    deployment(split, "orders")["metadata"]["namespace"] = "default"
    policies.named(split, "Namespace", "deliveryhub")["metadata"]["labels"].pop("pod-security.kubernetes.io/enforce")
    assert sorted(policies.namespace_violations(split)) == [
        "Deployment orders: namespace default", "Namespace deliveryhub: Pod Security restricted not enforced"]


def test_service_account_check_catches_a_token_and_a_missing_account(split):
    policies.pod_spec(deployment(split, "orders")).pop("automountServiceAccountToken")
    policies.named(split, "ServiceAccount", "deliveryhub-orders")["automountServiceAccountToken"] = True
    split.remove(policies.named(split, "ServiceAccount", "deliveryhub-payments"))
    violations = policies.service_account_violations(split)
    assert "Deployment orders: mounts an API token" in violations
    assert any("Deployment payments: ServiceAccount deliveryhub-payments is not in the render" in v for v in violations)
    assert any("deliveryhub-payments is not a ServiceAccount" in v for v in violations)


def test_istio_check_catches_an_extra_caller_and_extra_public_paths(split, spec):
    rules = policies.named(split, "AuthorizationPolicy", "payments")["spec"]["rules"]
    rules[1]["from"][0]["source"]["principals"].append("cluster.local/ns/deliveryhub/sa/deliveryhub-customers")
    rules[0]["to"][0]["operation"]["paths"].append("/internal/*")
    violations = policies.istio_edge_violations(split, spec)
    assert "AuthorizationPolicy lets customers call payments, not an edge of k8s/modules.yaml" in violations
    assert any("the ingress may reach" in v and "/internal/*" in v for v in violations)


def test_istio_check_catches_a_rule_open_to_everyone(split, spec):
    rules = policies.named(split, "AuthorizationPolicy", "incidents")["spec"]["rules"]
    rules.append({"to": [{"operation": {"paths": ["/internal/*"]}}]})
    assert "AuthorizationPolicy lets * call incidents, not an edge of k8s/modules.yaml" in \
        policies.istio_edge_violations(split, spec)


def virtual_service(objects, name):
    return policies.named(objects, "VirtualService", name)


def route(objects, service, name):
    return next(r for r in virtual_service(objects, service)["spec"]["http"] if r["name"] == name)


def test_virtual_service_check_catches_a_missing_a_second_and_a_wrong_one(split):
    assert policies.virtual_service_violations(split) == []
    split.remove(virtual_service(split, "orders"))
    second = copy.deepcopy(virtual_service(split, "payments"))
    second["metadata"]["name"] = "payments-too"
    second["spec"]["hosts"] = ["payments.deliveryhub.svc.cluster.local"]
    split.append(second)
    delivery = virtual_service(split, "delivery")["spec"]
    delivery["hosts"] = ["delivery"]
    delivery["gateways"] = ["deliveryhub-gateway"]
    delivery["http"][0]["route"][0]["destination"]["host"] = "customers"
    violations = policies.virtual_service_violations(split)
    assert "Service orders: 0 VirtualServices, not one" in violations
    assert "Service payments: 2 VirtualServices, not one" in violations
    assert any("VirtualService delivery: hosts ['delivery']" in v for v in violations)
    assert "VirtualService delivery: not on the mesh gateway (the sidecars)" in violations
    assert "VirtualService delivery route module-calls: sends to customers, not delivery" in violations


def test_the_apps_timeouts_are_read_from_the_code():
    assert policies.app_remote_timeouts(ROOT) == (2000, 100)


@pytest.mark.parametrize("breakage, expected", [
    (lambda r: r.update(timeout="2s"), "timeout 2 s is not longer than the modules' own attempt (2100 ms)"),
    (lambda r: r.pop("timeout"), "no timeout"),
    (lambda r: r.update(timeout="0s"), "no timeout"),
    (lambda r: r["retries"].update(perTryTimeout="1500ms"), "perTryTimeout 1.5 s is not longer than"),
])
def test_timeout_check_catches_a_mesh_that_cuts_module_calls(split, breakage, expected):
    assert policies.mesh_timeout_violations(split, 2000, 100) == []
    breakage(route(split, "payments", "module-calls"))
    violations = policies.mesh_timeout_violations(split, 2000, 100)
    assert any(v.startswith("VirtualService payments route module-calls: " + expected) for v in violations), violations


def test_timeout_check_reads_the_apps_timeout_from_the_render_and_the_ingress(split):
    config = policies.named(split, "ConfigMap", "deliveryhub-config")
    config["data"]["DELIVERYHUB_REMOTE_TIMEOUT"] = "5000"
    violations = policies.mesh_timeout_violations(split, 2000, 100)
    assert len([v for v in violations if "module-calls: timeout" in v]) == 5, violations
    config["data"].pop("DELIVERYHUB_REMOTE_TIMEOUT")
    container(split, "orders")["args"] += ["--remote-timeout", "4000"]
    assert any("(4100 ms)" in v for v in policies.mesh_timeout_violations(split, 2000, 100))
    container(split, "orders")["args"] = container(split, "orders")["args"][:-2]
    policies.named(split, "Ingress", "orders")["metadata"]["annotations"][
        "nginx.ingress.kubernetes.io/proxy-read-timeout"] = "60"
    violations = policies.mesh_timeout_violations(split, 2000, 100)
    assert any("route default: timeout 35 s is not longer than the ingress controller's read timeout" in v
               for v in violations), violations


@pytest.mark.parametrize("breakage, expected", [
    (lambda r: r["retries"].update(retryOn="connect-failure,5xx"), "retries on 5xx"),
    (lambda r: r["retries"].update(retryOn="503"), "retries on 503"),
    (lambda r: r["retries"].update(retryOn="gateway-error,reset"), "retries on gateway-error"),
    (lambda r: r["retries"].update(retryOn="retriable-status-codes"), "retries on retriable-status-codes"),
    (lambda r: r["retries"].pop("retryOn"), "retries without retryOn"),
    (lambda r: r["retries"].update(attempts=3), "3 retry attempts"),
    (lambda r: r.pop("retries"), "no retries set"),
])
def test_retry_check_catches_retries_that_may_repeat_a_request(split, breakage, expected):
    assert policies.mesh_retry_violations(split) == []
    breakage(route(split, "customers", "module-calls"))
    violations = policies.mesh_retry_violations(split)
    assert any(v.startswith("VirtualService customers route module-calls: " + expected) for v in violations), violations


def test_retry_check_accepts_no_retries(split):
    route(split, "customers", "module-calls")["retries"] = {"attempts": 0}
    assert policies.mesh_retry_violations(split) == []


def test_fault_check_catches_a_fault_outside_the_chaos_component(split, chaos):
    assert policies.fault_violations(split) == []
    assert policies.fault_violations(chaos) == [
        "VirtualService payments route chaos-orders-to-payments: injects faults outside the chaos component"]
    route(split, "delivery", "default")["fault"] = {"abort": {"httpStatus": 503, "percentage": {"value": 1}}}
    assert policies.fault_violations(split) == [
        "VirtualService delivery route default: injects faults outside the chaos component"]


def test_fault_check_catches_a_fault_for_other_callers(chaos):
    assert policies.fault_violations(chaos, source="orders", host="payments") == []
    fault = route(chaos, "payments", "chaos-orders-to-payments")
    fault["match"].append({"uri": {"prefix": "/internal/"}})
    fault["match"][0]["sourceLabels"]["app.kubernetes.io/component"] = "incidents"
    violations = policies.fault_violations(chaos, source="orders", host="payments")
    assert any("a match with sourceLabels None" in v for v in violations), violations
    assert any("'incidents'" in v for v in violations), violations
    fault.pop("match")
    assert "VirtualService payments route chaos-orders-to-payments: injects faults for every caller (no match)" in \
        policies.fault_violations(chaos, source="orders", host="payments")
    assert any("not on delivery" in v for v in policies.fault_violations(chaos, source="orders", host="delivery"))


def test_fault_check_catches_a_fault_route_that_others_shadow(chaos):
    http = virtual_service(chaos, "payments")["spec"]["http"]
    http.append(http.pop(0))
    assert any("comes after route module-calls" in v for v in policies.fault_violations(chaos, "orders", "payments"))


# --- PostgreSQL's backups (ADR 0038) ---------------------------------------------------------

POSTGRES_DOCKERFILE = (ROOT / "k8s/images/postgres/Dockerfile").read_text()
RESTORE_JOB = ROOT / "k8s/base/postgres-restore.template.yaml"


def postgres_pod(objects):
    return policies.pod_spec(policies.named(objects, "StatefulSet", "postgres"))


def postgres_container(objects, name="postgres"):
    return next(c for c in postgres_pod(objects)["containers"] if c["name"] == name)


def pgbackrest_conf(objects):
    return policies.named(objects, "ConfigMap", "pgbackrest")["data"]


def edit_conf(objects, old, new):
    data = pgbackrest_conf(objects)
    assert old in data["pgbackrest.conf"], old
    data["pgbackrest.conf"] = data["pgbackrest.conf"].replace(old, new)


def set_setting(objects, name, value):
    args = postgres_container(objects)["args"]
    i = next(i for i, a in enumerate(args) if a.startswith(name + "="))
    if value is None:
        del args[i - 1:i + 1]
    else:
        args[i] = f"{name}={value}"


def test_the_backup_checks_pass_the_unbroken_render(split):
    assert policies.archiving_violations(split) == []
    assert policies.repository_violations(split) == []
    assert policies.retention_violations(split) == []
    assert policies.backup_schedule_violations(split) == []
    assert policies.postgres_image_violations(split, POSTGRES_DOCKERFILE) == []


def test_the_server_settings_are_read_as_postgres_reads_them():
    c = {"args": ["postgres", "-c", "archive_mode=on", "-carchive_timeout=60s", "--max-connections=300"]}
    assert policies.postgres_settings(c) == {"archive_mode": "on", "archive_timeout": "60s", "max_connections": "300"}


@pytest.mark.parametrize("breakage, expected", [
    (lambda o: set_setting(o, "archive_mode", "off"), "archive_mode is off, not on"),
    (lambda o: set_setting(o, "archive_mode", None), "archive_mode is off (the default), not on"),
    (lambda o: set_setting(o, "archive_command", "cp %p /archive/%f"), "is not `pgbackrest --stanza=… archive-push %p`"),
    (lambda o: set_setting(o, "archive_command", "pgbackrest archive-push %p"), "is not `pgbackrest"),
    (lambda o: set_setting(o, "archive_command", "/bin/true"), "is not `pgbackrest"),
    (lambda o: set_setting(o, "archive_command", "pgbackrest --stanza=orders archive-push %p"), "no section [orders]"),
    (lambda o: edit_conf(o, "pg1-path=/var/lib/postgresql/data/pgdata", "pg1-path=/var/lib/postgresql/data"),
     "pg1-path /var/lib/postgresql/data is not PGDATA /var/lib/postgresql/data/pgdata"),
    (lambda o: postgres_container(o)["volumeMounts"].remove(
        next(m for m in postgres_container(o)["volumeMounts"] if m["name"] == "pgbackrest-config")),
     "no pgBackRest configuration at /etc/pgbackrest/pgbackrest.conf"),
    (lambda o: o.remove(policies.named(o, "ConfigMap", "pgbackrest")), "no pgBackRest configuration"),
])
def test_archiving_check_catches(split, breakage, expected):
    breakage(split)
    violations = policies.archiving_violations(split)
    assert any(expected in v for v in violations), violations


def test_archiving_check_wants_the_stateful_set(split):
    split.remove(policies.named(split, "StatefulSet", "postgres"))
    assert policies.archiving_violations(split) == ["no StatefulSet postgres"]


def move_repository_volume_to(objects, volume):
    for c in postgres_pod(objects)["containers"]:
        for m in c["volumeMounts"]:
            if m["name"] == "backup":
                m["name"] = volume


@pytest.mark.parametrize("breakage, expected", [
    # On the data volume: a path below the data mount, or the repository volume swapped for it.
    (lambda o: edit_conf(o, "repo1-path=/var/lib/pgbackrest", "repo1-path=/var/lib/postgresql/data/backup"),
     "is on the data volume (data-postgres-0)"),
    (lambda o: move_repository_volume_to(o, "data"), "is on the data volume (data-postgres-0)"),
    (lambda o: move_repository_volume_to(o, "tmp"), "(emptyDir), not a PersistentVolumeClaim"),
    (lambda o: edit_conf(o, "repo1-path=/var/lib/pgbackrest", "repo1-path=/srv/backup"), "is on no volume"),
    (lambda o: o.remove(policies.named(o, "PersistentVolumeClaim", "postgres-backup")),
     "the repository's claim postgres-backup is not in the render"),
    (lambda o: edit_conf(o, "repo1-path=/var/lib/pgbackrest", "repo1-type=s3\nrepo1-path=/deliveryhub"),
     "repo1-type=s3 without repo1-s3-bucket"),
])
def test_repository_check_catches(split, breakage, expected):
    breakage(split)
    violations = policies.repository_violations(split)
    assert any(expected in v for v in violations), violations


def test_repository_check_accepts_an_object_store(split):
    edit_conf(split, "repo1-path=/var/lib/pgbackrest",
              "repo1-type=s3\nrepo1-path=/deliveryhub\nrepo1-s3-bucket=b\nrepo1-s3-region=r\nrepo1-s3-endpoint=e")
    assert policies.repository_violations(split) == []


@pytest.mark.parametrize("old, new, expected", [
    ("repo1-retention-full=2\n", "", "no repo1-retention-full"),
    ("repo1-retention-full=2\n", "# repo1-retention-full=2\n", "no repo1-retention-full"),
    ("repo1-retention-full=2\n", "repo1-retention-full=0\n", "is not a positive count"),
    ("repo1-retention-full=2\n", "repo1-retention-full=two\n", "is not a positive count"),
])
def test_retention_check_catches(split, old, new, expected):
    edit_conf(split, old, new)
    violations = policies.retention_violations(split)
    assert any(expected in v for v in violations), violations


def sidecar(objects):
    return postgres_container(objects, "pgbackrest")


def unmount(objects, container, volume):
    container["volumeMounts"] = [m for m in container["volumeMounts"] if m["name"] != volume]


@pytest.mark.parametrize("breakage, expected", [
    (lambda o: postgres_pod(o)["containers"].remove(sidecar(o)), "no container runs a backup schedule"),
    (lambda o: sidecar(o).update(command=["bash", "-c", "sleep infinity"]), "no container runs a backup schedule"),
    (lambda o: pgbackrest_conf(o).update({"backup-schedule.sh": "sleep infinity\n"}), "no container runs a backup schedule"),
    (lambda o: pgbackrest_conf(o).update({"backup-schedule.sh": pgbackrest_conf(o)["backup-schedule.sh"].replace(
        "--stanza=deliveryhub", "")}), "never names the stanza deliveryhub"),
    (lambda o: sidecar(o)["env"][0].update(value="25:00"), "BACKUP_AT '25:00' is not HH:MM"),
    (lambda o: sidecar(o)["env"].pop(0), "BACKUP_AT None is not HH:MM"),
    (lambda o: sidecar(o)["env"][1].update(value="0"), "FULL_BACKUP_WEEKDAY '0' is not 1-7"),
    (lambda o: unmount(o, sidecar(o), "data"), "does not see the data directory"),
    (lambda o: unmount(o, sidecar(o), "run"), "does not see the server's socket"),
    (lambda o: unmount(o, sidecar(o), "backup"), "does not see the repository"),
    (lambda o: next(m for m in sidecar(o)["volumeMounts"] if m["name"] == "data").update(
        mountPath="/data"), "does not see the data directory"),
])
def test_backup_schedule_check_catches(split, breakage, expected):
    breakage(split)
    violations = policies.backup_schedule_violations(split)
    assert any(expected in v for v in violations), violations


@pytest.mark.parametrize("old, new, expected", [
    ("FROM postgres:15-bookworm", "FROM postgres", "base postgres has no tag"),
    ("FROM postgres:15-bookworm", "FROM postgres:latest", "base postgres:latest is tagged latest"),
    ('"pgbackrest=${PGBACKREST_VERSION}"', "pgbackrest", "pgbackrest is not pinned"),
    ('"pgbackrest=${PGBACKREST_VERSION}"', "postgresql-client", "does not install pgbackrest"),
    ("ARG VERSION=15-bookworm-pgbackrest-2.45-r1", "ARG VERSION=15-bookworm-pgbackrest-2.45-r2",
     "is not the pgBackRest image's version 15-bookworm-pgbackrest-2.45-r2"),
])
def test_postgres_image_check_catches_a_dockerfile(split, old, new, expected):
    assert old in POSTGRES_DOCKERFILE
    violations = policies.postgres_image_violations(split, POSTGRES_DOCKERFILE.replace(old, new))
    assert any(expected in v for v in violations), violations


def test_postgres_image_check_catches_a_container_without_pgbackrest(split):
    sidecar(split)["image"] = "postgres:15-bookworm"
    assert policies.postgres_image_violations(split, POSTGRES_DOCKERFILE) == [
        "StatefulSet postgres, container pgbackrest: image postgres:15-bookworm is not the pgBackRest image's "
        "version 15-bookworm-pgbackrest-2.45-r1"]
    postgres_container(split)["image"] = "ghcr.io/deliveryhub/postgres-pgbackrest:latest"
    assert any("container postgres: image ghcr.io/deliveryhub/postgres-pgbackrest:latest is tagged latest" in v
               for v in policies.container_violations(split))


@pytest.fixture
def restore_job():
    return yaml.safe_load(RESTORE_JOB.read_text())


def restore_container(job):
    return policies.pod_spec(job)["containers"][0]


@pytest.mark.parametrize("breakage, expected", [
    (lambda j: restore_container(j).update(image="postgres:15-bookworm"), "is not the server's"),
    (lambda j: policies.pod_spec(j)["volumes"][0]["persistentVolumeClaim"].update(claimName="data-postgres-1"),
     "the data directory (/var/lib/postgresql/data/pgdata) is not the server's claim data-postgres-0"),
    (lambda j: policies.pod_spec(j)["volumes"][2]["persistentVolumeClaim"].update(claimName="data-postgres-0"),
     "the repository (/var/lib/pgbackrest) is not the server's claim postgres-backup"),
    (lambda j: unmount(j, restore_container(j), "pgbackrest-config"), "does not mount the server's pgBackRest"),
    (lambda j: restore_container(j).update(args=[restore_container(j)["args"][0].replace("--type=time", "")]),
     "lacks --type=time"),
    (lambda j: restore_container(j).update(args=[restore_container(j)["args"][0].replace(
        "--stanza=deliveryhub", "--stanza=orders")]), "lacks --stanza=deliveryhub"),
])
def test_restore_job_check_catches(split, restore_job, breakage, expected):
    assert policies.restore_job_violations(restore_job, split) == []
    breakage(restore_job)
    violations = policies.restore_job_violations(restore_job, split)
    assert any(expected in v for v in violations), violations


# --- day one on a cluster (issue 19, ADR 0040) -----------------------------------------------

import os  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

WORKFLOW = yaml.safe_load((ROOT / ".github/workflows/ci-cd.yml").read_text())
SETTINGS = {"trusted-proxies": "10.0.0.0/16", "ingress-namespace": "ingress-nginx",
            "ingress-service-account": "ingress-nginx", "ingress-pod-name": "ingress-nginx", "ingress-class": "nginx",
            "ingress-upstream-keepalive-seconds": "60", "storage-class": "deliveryhub-gp3"}


def config(objects):
    return policies.named(objects, "ConfigMap", "deliveryhub-config")["data"]


def test_the_day_one_checks_pass_the_unbroken_renders(renders, cluster_render, settings):
    split_ = renders[SPLIT]
    assert policies.placeholder_violations(split_) == []
    assert policies.ingress_identity_violations(split_, settings) == []
    assert policies.acme_solver_violations(split_, settings) == []
    assert policies.storage_class_violations(split_ + cluster_render, "deliveryhub-gp3") == []
    assert policies.job_violations(split_) == []
    assert policies.sidecar_start_violations(split_) == []
    assert policies.idle_timeout_violations(split_, 60) == []
    assert policies.postgres_memory_violations(split_) == []
    assert policies.rabbitmq_violations(split_) == []
    assert policies.scrape_violations(split_) == []
    assert policies.pdb_violations(split_) == []


def test_placeholder_check_catches_a_replacement_that_missed(split):
    policies.named(split, "Ingress", "orders")["spec"]["ingressClassName"] = "cluster-settings-ingress-class"
    assert policies.placeholder_violations(split) == [
        "Ingress orders: spec.ingressClassName is still 'cluster-settings-ingress-class'"]


@pytest.mark.parametrize("value, expected", [
    (",127.0.0.6", "trusted-proxies is unset"),
    ("127.0.0.6", "trusted-proxies is unset"),
    ("10.244.0.0/16,127.0.0.6", "a distribution's default pod network"),
    ("10.42.0.0/16,127.0.0.6", "a distribution's default pod network"),
    ("0.0.0.0/0,127.0.0.6", "trusts every peer"),
    ("::/0", "trusts every peer"),
    ("10.0.0.0/16, 10.1.0.0/16,127.0.0.6", "has spaces"),
    ("ingress-nginx,127.0.0.6", "is not an address or CIDR"),
    ("10.0.0.0/33", "is not an address or CIDR"),
    ("127.0.0.1/8,127.0.0.6", "is loopback"),
])
def test_trusted_proxy_check_catches(split, value, expected):
    config(split)["DELIVERYHUB_TRUSTED_PROXIES"] = value
    violations = policies.trusted_proxy_violations(split)
    assert violations and all(v.startswith("ConfigMap deliveryhub-config: ") for v in violations), violations
    assert any(expected in v for v in violations), violations


@pytest.mark.parametrize("value", ["10.0.0.0/16,127.0.0.6", "10.0.0.0/16,10.1.0.0/16,127.0.0.6", "192.168.0.0/16",
                                   "2600:1f14::/56,127.0.0.6", "10.0.3.7"])
def test_trusted_proxy_check_accepts_a_clusters_networks(split, value):
    config(split)["DELIVERYHUB_TRUSTED_PROXIES"] = value
    assert policies.trusted_proxy_violations(split) == []


def deliveryhub_binary() -> Path | None:
    path = Path(os.environ.get("DELIVERYHUB_BIN", ROOT / "build/asan/src/app/deliveryhub"))
    return path if path.is_file() and os.access(path, os.X_OK) else None


@pytest.mark.parametrize("value, binary_reads_it", [
    ("", True), (",", True), (",127.0.0.6", True), ("10.0.0.0/16,,127.0.0.6", True), ("10.0.0.1/16", True),
    ("10.0.0.0/16, 127.0.0.6", False), ("ingress-nginx", False), ("10.0.0.0/33", False), ("UNSET", False),
])
def test_the_binary_reads_trusted_proxies_as_the_check_expects(tmp_path, value, binary_reads_it):
    """What `deliveryhub` does with the value (ADR 0040): an empty list or empty items are read as
    no proxy, silently; anything else it cannot read stops it with exit 2 before it does anything,
    `migrate` and `modules` included. The check calls the first kind unset, and refuses the second
    (the items it would not read are exactly the binary's)."""
    binary = deliveryhub_binary()
    if binary is None:
        pytest.skip("no deliveryhub binary (build/asan or DELIVERYHUB_BIN)")
    env = {"PATH": os.environ["PATH"], "DELIVERYHUB_TRUSTED_PROXIES": value, "ASAN_OPTIONS": "detect_leaks=0"}
    result = subprocess.run([str(binary), "modules"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (result.returncode == 0) == binary_reads_it, result.stderr
    if not binary_reads_it:
        assert result.returncode == 2 and "--trusted-proxy: not an IP address or network" in result.stderr
    problems = policies.cluster_settings.trusted_proxies_problems(value)
    assert bool([p for p in problems if "the binary refuses it" in p]) == (not binary_reads_it), problems
    if not value.strip(","):
        assert problems == [problems[0]] and "is unset" in problems[0]  # read, and silently trusts nobody


def test_settings_check_catches(tmp_path):
    bad = {**SETTINGS, "ingress-namespace": "Ingress_NGINX", "ingress-class": "", "storage-class": "gp3 ",
           "ingress-upstream-keepalive-seconds": "60s", "colour": "blue"}
    bad.pop("ingress-pod-name")
    assert sorted(policies.cluster_settings.problems(bad)) == [
        "colour: not a setting (one of trusted-proxies, ingress-namespace, ingress-service-account, ingress-pod-name, "
        "ingress-class, ingress-upstream-keepalive-seconds, storage-class)",
        "ingress-class: '' is not an IngressClass name",
        "ingress-namespace: 'Ingress_NGINX' is not a namespace name",
        "ingress-pod-name: missing",
        "ingress-upstream-keepalive-seconds: '60s' is not a number of seconds",
        "storage-class: 'gp3 ' is not a StorageClass name"]
    assert policies.cluster_settings.problems({**SETTINGS, "trusted-proxies": ""}) == []
    assert policies.cluster_settings.problems({**SETTINGS, "trusted-proxies": ""}, deploy=True)
    env = tmp_path / "settings.env"
    env.write_text("# comment\n" + "".join(f"{k}={v}\n" for k, v in SETTINGS.items()))
    assert policies.cluster_settings.assign(env, ["trusted-proxies=10.244.0.0/16"])
    assert policies.cluster_settings.assign(env, ["storage-class=Gp3"]) == ["storage-class: 'Gp3' is not a StorageClass name"]
    assert policies.cluster_settings.read(env) == SETTINGS  # refused: nothing written
    assert policies.cluster_settings.assign(env, ["trusted-proxies=10.1.0.0/16", "storage-class=gp3"]) == []
    assert policies.cluster_settings.read(env) == {**SETTINGS, "trusted-proxies": "10.1.0.0/16", "storage-class": "gp3"}
    assert env.read_text().startswith("# comment\n")


def deploy_steps(workflow):
    return workflow["jobs"]["deploy"]["steps"]


def settings_step(workflow):
    return next(s for s in deploy_steps(workflow) if "cluster_settings.py set" in s.get("run", ""))


@pytest.mark.parametrize("breakage, expected", [
    (lambda w: deploy_steps(w).remove(settings_step(w)), "no step sets trusted-proxies"),
    (lambda w: settings_step(w)["env"].update(TRUSTED_PROXIES="${{ vars.TRUSTED_PROXIES }}"),
     "does not take vars.DELIVERYHUB_TRUSTED_PROXIES"),
    (lambda w: settings_step(w).update(run=settings_step(w)["run"].replace('"trusted-proxies=${TRUSTED_PROXIES}"',
                                                                           "trusted-proxies=10.0.0.0/16")),
     "does not take vars.DELIVERYHUB_TRUSTED_PROXIES"),
    (lambda w: deploy_steps(w).append(deploy_steps(w).pop(deploy_steps(w).index(settings_step(w)))),
     "rendered before trusted-proxies is set"),
])
def test_deploy_settings_check_catches(breakage, expected):
    workflow = copy.deepcopy(WORKFLOW)
    assert policies.deploy_settings_violations(workflow) == []
    breakage(workflow)
    violations = policies.deploy_settings_violations(workflow)
    assert any(expected in v for v in violations), violations


def overlays():
    return {str(p.relative_to(ROOT)): yaml.safe_load(p.read_text())
            for p in sorted((ROOT / "k8s/overlays").glob("*/kustomization.yaml"))}


def image_step(workflow):
    return next(s for s in workflow["jobs"]["image"]["steps"] if s.get("id") == "names")


@pytest.mark.parametrize("breakage, expected", [
    (lambda w, o: o["k8s/overlays/split/kustomization.yaml"]["images"][0].update(newTag="0.1.0"),
     "pins deliveryhub to tag '0.1.0', not 'unpinned'"),
    (lambda w, o: o["k8s/overlays/single/kustomization.yaml"]["images"][0].update(newName="ghcr.io/acme/deliveryhub"),
     "overlays name different deliveryhub images"),
    (lambda w, o: image_step(w).update(run='echo "image=ghcr.io/${GITHUB_REPOSITORY,,}:${GITHUB_SHA}"'),
     "the pushed image is not the split overlay's newName"),
    (lambda w, o: image_step(w).update(run=image_step(w)["run"].replace("${GITHUB_SHA}", "latest")),
     "the pushed image is not the split overlay's newName"),
    (lambda w, o: [s.update(run=s["run"].replace("kustomize edit set image", "echo"))
                   for s in deploy_steps(w) if "kustomize edit set image" in s.get("run", "")],
     "not pinned to the pushed image"),
])
def test_image_pin_check_catches(breakage, expected):
    workflow, kustomizations = copy.deepcopy(WORKFLOW), overlays()
    assert policies.image_pin_violations(workflow, kustomizations) == []
    breakage(workflow, kustomizations)
    violations = policies.image_pin_violations(workflow, kustomizations)
    assert any(expected in v for v in violations), violations


def ingress_peer(objects, name="allow-ingress-controller"):
    return policies.named(objects, "NetworkPolicy", name)["spec"]["ingress"][0]["from"][0]


@pytest.mark.parametrize("breakage, expected", [
    (lambda o: policies.named(o, "AuthorizationPolicy", "orders")["spec"]["rules"][0]["from"][0]["source"].update(
        principals=["cluster.local/ns/ingress-nginx/sa/ingress-nginx-controller"]),
     "AuthorizationPolicy orders: principal cluster.local/ns/ingress-nginx/sa/ingress-nginx-controller"),
    (lambda o: ingress_peer(o)["namespaceSelector"]["matchLabels"].update({"kubernetes.io/metadata.name": "traefik"}),
     "NetworkPolicy allow-ingress-controller: a peer in namespace traefik"),
    (lambda o: ingress_peer(o)["podSelector"]["matchLabels"].update({policies.NAME: "controller"}),
     "the controller's pods are app.kubernetes.io/name=controller"),
    (lambda o: policies.named(o, "Ingress", "payments")["spec"].update(ingressClassName="traefik"),
     "Ingress payments: class traefik, not nginx"),
    (lambda o: o.remove(policies.named(o, "NetworkPolicy", "allow-ingress-controller")),
     "allow-ingress-controller: missing"),
    (lambda o: policies.named(o, "ConfigMap", "deliveryhub-settings")["data"].update({"ingress-class": "haproxy"}),
     "ingress-class is 'haproxy', the settings say 'nginx'"),
])
def test_ingress_identity_check_catches(split, settings, breakage, expected):
    breakage(split)
    violations = policies.ingress_identity_violations(split, settings)
    assert any(expected in v for v in violations), violations


def test_ingress_identity_check_follows_the_settings_it_is_given(split, settings):
    other = {**settings, "ingress-namespace": "edge"}
    violations = policies.ingress_identity_violations(split, other)
    assert any("allow-ingress-controller: a peer in namespace ingress-nginx" in v for v in violations)
    assert any("principal cluster.local/ns/ingress-nginx/sa/ingress-nginx, not" in v for v in violations)


@pytest.mark.parametrize("breakage", [
    lambda o: o.remove(policies.named(o, "NetworkPolicy", "allow-acme-http01-solver")),
    lambda o: policies.named(o, "NetworkPolicy", "allow-acme-http01-solver")["spec"]["ingress"][0].update(
        ports=[{"protocol": "TCP", "port": 8080}]),
    lambda o: ingress_peer(o, "allow-acme-http01-solver")["namespaceSelector"]["matchLabels"].update(
        {"kubernetes.io/metadata.name": "cert-manager"}),
])
def test_acme_solver_check_catches(split, settings, breakage):
    breakage(split)
    assert policies.acme_solver_violations(split, settings) == [
        "NetworkPolicy: the default deny keeps the ingress controller off cert-manager's HTTP-01 solver pods "
        "({'acme.cert-manager.io/http01-solver': 'true'}, port 8089)"]


def test_storage_class_check_catches_a_claim_without_the_class(split):
    policies.named(split, "PersistentVolumeClaim", "postgres-backup")["spec"].pop("storageClassName")
    policies.named(split, "StatefulSet", "rabbitmq")["spec"]["volumeClaimTemplates"][0]["spec"][
        "storageClassName"] = "gp2"
    assert policies.storage_class_violations(split, "deliveryhub-gp3") == [
        "PersistentVolumeClaim postgres-backup: storageClassName None, not 'deliveryhub-gp3'",
        "StatefulSet rabbitmq: claim template data has storageClassName 'gp2', not 'deliveryhub-gp3'"]


def test_delete_safety_check_catches_the_namespace_and_the_claim_in_an_overlay(split):
    # `split` holds k8s/cluster's objects too: as if the overlay rendered them.
    assert policies.delete_safety_violations(split) == [
        "Namespace deliveryhub: rendered by the overlay, so `kubectl delete -k` deletes it with its Secrets and claims",
        "PersistentVolumeClaim postgres-backup: rendered by the overlay, so `kubectl delete -k` deletes it"]


@pytest.mark.parametrize("breakage, expected", [
    (lambda j: policies.pod_spec(j).update(restartPolicy="OnFailure"), "restartPolicy OnFailure, not Never"),
    (lambda j: j["spec"].pop("backoffLimit"), "no backoffLimit"),
    (lambda j: j["spec"].pop("activeDeadlineSeconds"), "no activeDeadlineSeconds"),
])
def test_job_check_catches(split, breakage, expected):
    breakage(policies.named(split, "Job", "deliveryhub-migrate"))
    assert policies.job_violations(split) == [f"Job deliveryhub-migrate: {expected}" + (
        ": a failed attempt's log is lost at the next restart" if "restartPolicy" in expected else "")]


@pytest.mark.parametrize("breakage, expected", [
    (lambda a, l: a.update({"proxy.istio.io/config": '{"terminationDrainDuration": "20s"}'}),
     "does not set holdApplicationUntilProxyStarts"),
    (lambda a, l: a.update({"proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": "true"}'}),
     "does not set holdApplicationUntilProxyStarts"),
    (lambda a, l: l.pop("sidecar.istio.io/inject"), "no sidecar"),
])
def test_sidecar_start_check_catches(split, breakage, expected):
    template = deployment(split, "payments")["spec"]["template"]["metadata"]
    breakage(template["annotations"], template["labels"])
    violations = policies.sidecar_start_violations(split)
    assert len(violations) == 1 and violations[0].startswith("Deployment payments: ") and expected in violations[0]


@pytest.mark.parametrize("breakage, keepalive, expected", [
    (lambda o: config(o).update(DELIVERYHUB_IDLE_TIMEOUT="60"), 60,
     "its idle timeout 60 s is not longer than the ingress controller's keep-alive 60 s"),
    (lambda o: config(o).pop("DELIVERYHUB_IDLE_TIMEOUT"), 60, "its idle timeout 60 s is not longer than"),
    (lambda o: None, 75, "its idle timeout 75 s is not longer than the ingress controller's keep-alive 75 s"),
    (lambda o: policies.named(o, "DestinationRule", "orders")["spec"]["trafficPolicy"]["connectionPool"]["http"].update(
        idleTimeout="90s"), 60, "not longer than DestinationRule orders's idleTimeout 90 s"),
    (lambda o: policies.named(o, "DestinationRule", "orders")["spec"]["trafficPolicy"]["connectionPool"]["http"].pop(
        "idleTimeout"), 60, "DestinationRule orders: no connectionPool.http.idleTimeout"),
    (lambda o: container(o, "delivery")["args"].extend(["--idle-timeout", "30"]), 60,
     "Deployment delivery, container deliveryhub: its idle timeout 30 s"),
])
def test_idle_timeout_check_catches(split, breakage, keepalive, expected):
    breakage(split)
    violations = policies.idle_timeout_violations(split, keepalive)
    assert any(expected in v for v in violations), violations


def postgres_server(objects):
    return policies.postgres_server(objects)[1]


@pytest.mark.parametrize("breakage, expected", [
    (lambda c: c["resources"]["limits"].update(memory="1Gi"), "over its limit of 1024 MiB"),
    (lambda c: c["resources"]["requests"].update(memory="1Gi"), "requests less memory than its limit"),
    (lambda c: set_setting_in(c, "max_connections", "500"), "500 connections x (4 + 6)"),
    (lambda c: set_setting_in(c, "shared_buffers", "2GB"), "shared_buffers 2048"),
    (lambda c: set_setting_in(c, "work_mem", "16MB"), "x (16 + 6)"),
    (lambda c: c.update(volumeMounts=[m for m in c["volumeMounts"] if m["mountPath"] != "/dev/shm"]),
     "no memory-backed /dev/shm"),
])
def test_postgres_memory_check_catches(split, breakage, expected):
    breakage(postgres_server(split))
    violations = policies.postgres_memory_violations(split)
    assert any(expected in v for v in violations), violations


def test_postgres_memory_check_counts_dev_shm(split):
    """A /dev/shm larger than what the limit leaves makes the sum go over it."""
    sts = policies.named(split, "StatefulSet", "postgres")
    shm = next(v for v in policies.pod_spec(sts)["volumes"] if v["name"] == "shm")
    shm["emptyDir"]["sizeLimit"] = "1Gi"
    violations = policies.postgres_memory_violations(split)
    assert any("/dev/shm 1024" in v and "over its limit" in v for v in violations), violations


def set_setting_in(c, name, value):
    i = next(i for i, a in enumerate(c["args"]) if a.startswith(name + "="))
    c["args"][i] = f"{name}={value}"


def test_postgres_sizes_are_read_as_postgres_reads_them():
    assert policies.postgres_size_bytes("512MB", 8192) == 512 * 2**20
    assert policies.postgres_size_bytes("16384", 8192) == 128 * 2**20  # shared_buffers: 8 kB pages
    assert policies.postgres_size_bytes("4096", 1024) == 4 * 2**20      # work_mem: kB
    assert policies.quantity_bytes("4Gi") == 4 * 2**30 and policies.quantity_bytes("512M") == 512 * 10**6


def rabbitmq(objects):
    return policies.pod_spec(policies.named(objects, "StatefulSet", "rabbitmq"))["containers"][0]


def rabbitmq_conf_text(objects, text):
    policies.named(objects, "ConfigMap", "rabbitmq-config")["data"]["90-deliveryhub.conf"] = text


@pytest.mark.parametrize("breakage, expected", [
    (lambda o: rabbitmq(o).update(image="rabbitmq:3.11-management"), "is not RabbitMQ 4.3 or later"),
    (lambda o: rabbitmq(o).update(image="rabbitmq:4.2.9-management@sha256:" + "0" * 64), "is not RabbitMQ 4.3"),
    (lambda o: rabbitmq(o).update(livenessProbe={"exec": {"command": ["rabbitmq-diagnostics", "-q", "ping"]}}),
     "livenessProbe runs rabbitmq-diagnostics -q ping inside the broker's memory limit"),
    (lambda o: rabbitmq_conf_text(o, "vm_memory_high_watermark.relative = 0.4\n"), "a relative memory watermark"),
    (lambda o: rabbitmq_conf_text(o, "disk_free_limit.absolute = 1GB\n"), "no vm_memory_high_watermark.absolute"),
    (lambda o: rabbitmq_conf_text(o, "vm_memory_high_watermark.absolute = 1GiB\n"),
     "memory watermark 1024 MiB is over 60% of its 1024 MiB limit"),
    (lambda o: rabbitmq_conf_text(o, "vm_memory_high_watermark.absolute = half\n"), "no vm_memory_high_watermark"),
    (lambda o: rabbitmq(o).update(volumeMounts=[m for m in rabbitmq(o)["volumeMounts"] if m["name"] != "config"]),
     "no vm_memory_high_watermark.absolute"),
])
def test_rabbitmq_check_catches(split, breakage, expected):
    breakage(split)
    violations = policies.rabbitmq_violations(split)
    assert any(expected in v for v in violations), violations


def test_rabbitmq_information_units_are_read_as_rabbitmq_reads_them():
    assert [policies.information_bytes(t) for t in ("536870912", "512MiB", "512MB", "1GB", "1G", "half")] == [
        2**29, 2**29, 512 * 10**6, 10**9, 2**30, None]


@pytest.mark.parametrize("image", ["rabbitmq:4.3.6-management", "rabbitmq:4.3.6-management@sha256:abc",
                                   "rabbitmq@sha256:" + "0" * 63, "grafana/loki:latest"])
def test_digest_check_catches_an_image_by_tag(split, image):
    rabbitmq(split)["image"] = image
    assert policies.image_digest_violations(split) == [
        f"StatefulSet rabbitmq, container rabbitmq: image {image} is not pinned by digest"]


def test_digest_check_leaves_ours_and_the_awaited_ones(split):
    assert policies.image_digest_violations(split) == []  # ghcr.io/deliveryhub/*: built here, tag-pinned
    rabbitmq(split)["image"] = "rabbitmq:4.3.6-management"
    assert policies.image_digest_violations(split, {"rabbitmq": "no digest at hand"}) == []
    rabbitmq(split)["image"] = "docker.io/library/rabbitmq@sha256:" + "a" * 64
    assert policies.image_digest_violations(split) == []


def peer_authentication(objects):
    return policies.named(objects, "PeerAuthentication", "deliveryhub-metrics")


@pytest.mark.parametrize("breakage, expected", [
    (lambda o: peer_authentication(o)["spec"].pop("portLevelMtls"), "the sidecar accepts mutual TLS only (STRICT)"),
    (lambda o: o.remove(peer_authentication(o)), "the sidecar accepts mutual TLS only (STRICT)"),
    (lambda o: peer_authentication(o)["spec"]["portLevelMtls"]["9090"].update(mode="STRICT"), "(STRICT)"),
    (lambda o: policies.named(o, "AuthorizationPolicy", "allow-metrics")["spec"]["rules"][0].update(
        {"from": [{"source": {"namespaces": ["monitoring"]}}]}), "no ALLOW policy lets an anonymous GET /metrics in"),
    (lambda o: policies.named(o, "AuthorizationPolicy", "allow-metrics")["spec"]["rules"][0]["to"][0][
        "operation"].update(ports=["8080"]), "no ALLOW policy lets an anonymous GET /metrics in"),
])
def test_scrape_check_catches(split, breakage, expected):
    assert policies.scrape_violations(split) == []
    breakage(split)
    violations = policies.scrape_violations(split)
    assert violations and all(v.startswith("ServiceMonitor deliveryhub -> Service ") for v in violations), violations
    assert any(expected in v for v in violations), violations


def test_pdb_check_catches_a_store_without_a_blocking_budget_and_a_budget_that_blocks_drains(split):
    split.remove(policies.named(split, "PodDisruptionBudget", "rabbitmq"))
    policies.named(split, "PodDisruptionBudget", "postgres")["spec"]["maxUnavailable"] = 1
    policies.named(split, "PodDisruptionBudget", "orders")["spec"].pop("unhealthyPodEvictionPolicy")
    assert sorted(policies.pdb_violations(split)) == [
        "PodDisruptionBudget orders: unhealthyPodEvictionPolicy is None, not AlwaysAllow: a pod that is not ready "
        "could block a drain",
        "PodDisruptionBudget postgres: the one pod of StatefulSet postgres may be evicted (maxUnavailable 1, "
        "minAvailable None), not 0",
        "StatefulSet rabbitmq: no PodDisruptionBudget selects its pods"]


def test_hpa_check_catches_a_pod_metric_that_counts_the_sidecar(split, spec):
    metric = policies.named(split, "HorizontalPodAutoscaler", "orders")["spec"]["metrics"][0]
    metric.update(type="Resource", resource=metric.pop("containerResource"))
    metric["resource"].pop("container")
    wanted = {m: s["hpa"] for m, s in spec["modules"].items() if "hpa" in s}
    violations = policies.hpa_violations(split, wanted)
    assert "HPA orders: a Resource metric of the whole pod, not the ContainerResource of container deliveryhub: " \
           "a sidecar would count" in violations


def test_postgres_check_counts_the_superusers_reserved_connections(split):
    server = postgres_server(split)
    set_setting_in(server, "max_connections", "290")  # 288 for the processes, 3 for the superuser
    assert policies.postgres_connection_violations(split) == [
        "PostgreSQL max_connections 290 < 288 that the processes may open + 3 for the superuser"]
    set_setting_in(server, "max_connections", "291")
    assert policies.postgres_connection_violations(split) == []
