"""The policies of issue 5 over every rendered variant (conftest.py renders them). A failure
names the variant and lists each violation; test_policy_checks.py shows each check can fail."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import policies
from renders import ROOT, variants

VARIANTS = variants()
ids = ["+".join(v) for v in VARIANTS]


def is_split(variant: tuple[str, ...]) -> bool:
    return variant[0].startswith("split")


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_containers_have_probes_resources_and_the_restricted_security_context(renders, variant):
    assert policies.container_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_every_deployment_has_a_pod_disruption_budget(renders, variant):
    assert policies.pdb_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_termination_grace_covers_pre_stop_and_the_drain(renders, variant):
    assert policies.grace_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", [v for v in VARIANTS if "istio" in v[0]], ids=lambda v: "+".join(v))
def test_the_istio_sidecar_outlives_the_apps_drain(renders, variant):
    assert policies.sidecar_drain_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_pods_spread_across_nodes_that_take_them(renders, variant):
    assert policies.topology_spread_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_the_token_signing_pods_mount_a_signing_and_a_verify_key(renders, variant):
    objects = renders[variant]
    assert policies.jwt_key_violations(objects) == []
    signing = [d["metadata"]["name"] for d in policies.of_kind(objects, "Deployment")
               if any(policies.config_value(objects, c, "DELIVERYHUB_JWT_KEY_FILE") for c in policies.containers(d))]
    assert signing == (["customers"] if is_split(variant) else ["deliveryhub"])


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_hpas_target_deployments_of_the_render_as_modules_yaml_says(renders, variant, spec):
    expected = {m: s["hpa"] for m, s in spec["modules"].items() if "hpa" in s} if is_split(variant) else {}
    assert policies.hpa_violations(renders[variant], expected) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_ingress_routes_equal_the_nginx_gateways(renders, variant, nginx_template):
    assert policies.ingress_violations(renders[variant], nginx_template, is_split(variant)) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_network_policies_allow_module_calls_along_the_dependency_graph_only(renders, variant, spec):
    assert policies.network_policy_violations(renders[variant], spec, is_split(variant)) == []


@pytest.mark.parametrize("variant", [v for v in VARIANTS if is_split(v)], ids=lambda v: "+".join(v))
def test_remote_flags_equal_each_modules_edges(renders, variant, spec):
    assert policies.remote_violations(renders[variant], spec) == []


@pytest.mark.parametrize("variant", [v for v in VARIANTS if "istio" in v[0]], ids=lambda v: "+".join(v))
def test_istio_authorization_follows_the_dependency_graph(renders, variant, spec):
    assert policies.istio_edge_violations(renders[variant], spec) == []


ISTIO = [v for v in VARIANTS if "istio" in v[0]]
CHAOS = "istio-chaos"


@pytest.mark.parametrize("variant", ISTIO, ids=lambda v: "+".join(v))
def test_every_module_service_has_one_virtual_service(renders, variant):
    assert policies.virtual_service_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", ISTIO, ids=lambda v: "+".join(v))
def test_mesh_timeouts_never_cut_a_call_its_caller_still_waits_for(renders, variant):
    # The modules' own per-attempt timeout and slack, read from the code (ADR 0014, 0034).
    attempt_ms, slack_ms = policies.app_remote_timeouts(ROOT)
    assert policies.mesh_timeout_violations(renders[variant], attempt_ms, slack_ms) == []


@pytest.mark.parametrize("variant", ISTIO, ids=lambda v: "+".join(v))
def test_mesh_retries_only_requests_that_never_reached_a_module(renders, variant):
    assert policies.mesh_retry_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_faults_are_injected_by_the_chaos_component_only_for_orders_to_payments(renders, variant):
    objects = renders[variant]
    if CHAOS in variant:
        assert policies.fault_violations(objects, source="orders", host="payments") == []
        faults = [r for _, _, r in policies.http_routes(objects) if "fault" in r]
        assert len(faults) == 1, "the chaos component's patch found no payments VirtualService to patch"
        assert {"delay", "abort"} <= set(faults[0]["fault"])
    else:
        assert policies.fault_violations(objects) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_every_secret_key_read_is_in_the_secret_template(renders, variant, secret_template):
    assert policies.secret_key_violations(renders[variant], secret_template) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_postgres_accepts_every_connection_the_processes_may_open(renders, variant):
    assert policies.postgres_connection_violations(renders[variant]) == []


# PostgreSQL's backups (ADR 0038). Every overlay deploys the base's StatefulSet, so every variant
# CI renders (the split overlay is the one CI deploys) must archive and back up.
POSTGRES_DOCKERFILE = ROOT / "k8s/images/postgres/Dockerfile"
RESTORE_JOB = ROOT / "k8s/base/postgres-restore.template.yaml"


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_postgres_archives_every_wal_segment_with_pgbackrest(renders, variant):
    assert policies.archiving_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_the_backup_repository_is_a_claim_of_its_own_with_a_retention(renders, variant):
    assert policies.repository_violations(renders[variant]) == []
    assert policies.retention_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_base_backups_run_on_a_schedule_beside_the_server(renders, variant):
    assert policies.backup_schedule_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_postgres_runs_the_pinned_image_with_pgbackrest(renders, variant):
    assert policies.postgres_image_violations(renders[variant], POSTGRES_DOCKERFILE.read_text()) == []


def test_the_restore_job_template_restores_the_servers_claims_as_the_workloads_run(renders):
    job = yaml.safe_load(RESTORE_JOB.read_text())
    objects = renders[("split",)]
    assert policies.restore_job_violations(job, objects) == []
    assert policies.container_violations([job]) == []
    assert policies.service_account_violations(objects + [job]) == []
    assert policies.namespace_violations([job]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_everything_is_in_the_restricted_namespace(renders, variant):
    assert policies.namespace_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_pods_run_as_their_own_service_accounts_without_api_tokens(renders, variant):
    assert policies.service_account_violations(renders[variant]) == []


def test_the_dependency_graph_is_the_registrys(spec, graph):
    assert policies.graph_code_violations(spec, graph) == []


def test_alerts_and_dashboard_use_metrics_the_code_exports(renders):
    objects = renders[("split-istio", "monitoring")]
    expressions = {}
    for rule_set in policies.of_kind(objects, "PrometheusRule"):
        for group in rule_set["spec"]["groups"]:
            for rule in group["rules"]:
                expressions[f"alert {rule.get('alert', rule.get('record'))}"] = rule["expr"]
    dashboards = [cm for cm in policies.of_kind(objects, "ConfigMap")
                  if cm["metadata"].get("labels", {}).get("grafana_dashboard")]
    assert dashboards, "no ConfigMap labelled grafana_dashboard"
    for cm in dashboards:
        for file, text in cm["data"].items():
            for panel in json.loads(text)["panels"]:
                for target in panel["targets"]:
                    expressions[f"{file} panel {panel['title']!r}"] = target["expr"]
    assert len(expressions) > 10
    assert policies.metric_violations(expressions, policies.exported_metrics(ROOT / "src")) == []


def test_the_issues_alerts_are_all_there(renders):
    rules = policies.of_kind(renders[("split", "monitoring")], "PrometheusRule")
    alerts = {r["alert"] for rs in rules for g in rs["spec"]["groups"] for r in g["rules"] if "alert" in r}
    assert {"DeliveryhubHighErrorRatio", "DeliveryhubHighLatencyP99", "DeliveryhubModuleDown",
            "DeliveryhubMemoryHigh", "DeliveryhubCpuHigh", "DeliveryhubCircuitBreakerOpen",
            "DeliveryhubOutboxBacklogGrowing", "DeliveryhubDeadLetterQueueNotEmpty"} <= alerts


def test_the_generated_files_are_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "tools/k8s/generate.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_generator_check_fails_when_modules_yaml_changed(tmp_path: Path):
    changed = (ROOT / "k8s/modules.yaml").read_text().replace("  customers:\n    replicas: 2\n",
                                                              "  customers:\n    replicas: 3\n", 1)
    assert changed != (ROOT / "k8s/modules.yaml").read_text()
    (tmp_path / "modules.yaml").write_text(changed)
    result = subprocess.run([sys.executable, str(ROOT / "tools/k8s/generate.py"), "--check",
                             "--spec", str(tmp_path / "modules.yaml")], capture_output=True, text=True)
    assert result.returncode == 1
    assert "k8s/overlays/split/generated/customers.yaml" in result.stderr
