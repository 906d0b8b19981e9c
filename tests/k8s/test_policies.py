"""The policies of issue 5 (and issue 19's, ADR 0040) over every rendered variant (conftest.py
renders them). A failure names the variant and lists each violation; test_policy_checks.py shows
each check can fail."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import policies
from renders import ROOT, kustomize_build, variants

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
def test_the_backup_repository_is_a_claim_of_its_own_with_a_retention(renders, variant, cluster_render):
    # The claim postgres-backup is k8s/cluster's (applied once beside the overlay, ADR 0040).
    assert policies.repository_violations(renders[variant] + cluster_render) == []
    assert policies.retention_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_base_backups_run_on_a_schedule_beside_the_server(renders, variant):
    assert policies.backup_schedule_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_postgres_runs_the_pinned_image_with_pgbackrest(renders, variant):
    assert policies.postgres_image_violations(renders[variant], POSTGRES_DOCKERFILE.read_text()) == []


def test_the_restore_job_template_restores_the_servers_claims_as_the_workloads_run(renders, cluster_render):
    job = yaml.safe_load(RESTORE_JOB.read_text())
    objects = renders[("split",)] + cluster_render
    assert policies.restore_job_violations(job, objects) == []
    assert policies.container_violations([job]) == []
    assert policies.service_account_violations(objects + [job]) == []
    assert policies.namespace_violations([job]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_everything_is_in_the_restricted_namespace(renders, variant, cluster_render):
    assert policies.namespace_violations(renders[variant] + cluster_render) == []


def test_the_namespace_is_applied_once_from_k8s_cluster_and_enforces_restricted(cluster_render):
    assert policies.named(cluster_render, "Namespace", "deliveryhub") is not None
    assert policies.named(cluster_render, "PersistentVolumeClaim", "postgres-backup") is not None
    assert policies.namespace_violations(cluster_render) == []
    assert {o["kind"] for o in cluster_render} == {"Namespace", "PersistentVolumeClaim"}, \
        "k8s/cluster renders only what must outlive every overlay (its settings ConfigMap is local-config)"


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


# --- day one on a cluster (issue 19, ADR 0040) -----------------------------------------------

WORKFLOW = ROOT / ".github/workflows/ci-cd.yml"
OVERLAYS = sorted((ROOT / "k8s/overlays").glob("*/kustomization.yaml"))
ISTIO_MONITORING = [v for v in VARIANTS if "istio" in v[0] and ("monitoring" in v or "monitoring" in v[0])]
# Images whose digest could not be read where ADR 0040 was written: pinned by tag until someone
# with registry access pins them (the ADR says how). None may be in what the deploy job applies.
AWAITING_DIGEST = {
    "cr.fluentbit.io/fluent/fluent-bit": "components/logging's collector: no record of the 4.0.8 digest was at hand",
}


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_no_cluster_settings_placeholder_is_left(renders, variant, cluster_render):
    assert policies.placeholder_violations(renders[variant]) == []
    assert policies.placeholder_violations(cluster_render) == []


def test_the_committed_settings_are_well_formed_with_trusted_proxies_left_to_the_deploy(settings):
    assert policies.cluster_settings.problems(settings) == []
    assert settings["trusted-proxies"] == "", "a cluster's addresses are never committed: the deploy sets them"


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_the_committed_overlays_trust_no_proxy_until_the_deploy_sets_one(renders, variant):
    # What a render straight from git carries: no proxy but the Istio sidecar's, never a made-up
    # network (the former placeholder 10.244.0.0/16 was kind's: on EKS nobody would be trusted).
    problems = policies.trusted_proxy_violations(renders[variant])
    assert len(problems) == 1 and "is unset" in problems[0], problems
    assert "10.244.0.0/16" not in yaml.safe_dump_all(renders[variant])


def test_the_deploy_job_sets_trusted_proxies_from_its_variable_before_it_renders():
    assert policies.deploy_settings_violations(workflow()) == []


def deploy_tree(tmp_path: Path) -> Path:
    """What the deploy job's checkout holds of k8s/ and its settings tool."""
    shutil.copytree(ROOT / "k8s", tmp_path / "k8s")
    (tmp_path / "tools/k8s").mkdir(parents=True)
    shutil.copy(ROOT / "tools/k8s/cluster_settings.py", tmp_path / "tools/k8s/")
    return tmp_path


def run_settings_step(tree: Path, value: str) -> subprocess.CompletedProcess:
    """The deploy job's step `The cluster's settings`, as GitHub runs a `run:` (bash -e), with
    the environment variable's value."""
    step = next(s for s in workflow()["jobs"]["deploy"]["steps"] if "cluster_settings.py set" in s.get("run", ""))
    env = {"PATH": os.environ["PATH"], **{k: value for k in step.get("env", {})}}
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=tree, env=env,
                          capture_output=True, text=True)


@pytest.mark.parametrize("value", ["", "10.244.0.0/16", "10.0.0.0/16, 10.1.0.0/16", "0.0.0.0/0", "ingress-nginx"])
def test_the_deploy_stops_without_a_real_trusted_proxy_list(tmp_path, value):
    tree = deploy_tree(tmp_path)
    before = (tree / "k8s/cluster/settings/settings.env").read_text()
    result = run_settings_step(tree, value)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "trusted-proxies" in result.stderr
    assert (tree / "k8s/cluster/settings/settings.env").read_text() == before


def test_the_overlay_the_deploy_job_applies_trusts_the_proxies_it_was_given(tmp_path):
    tree = deploy_tree(tmp_path)
    result = run_settings_step(tree, "10.20.0.0/16,10.21.0.0/16")
    assert result.returncode == 0, result.stderr
    objects = kustomize_build(tree / "k8s/overlays/split")
    assert policies.trusted_proxy_violations(objects) == []
    assert policies.named(objects, "ConfigMap", "deliveryhub-config")["data"]["DELIVERYHUB_TRUSTED_PROXIES"] == \
        "10.20.0.0/16,10.21.0.0/16,127.0.0.6"
    assert policies.placeholder_violations(objects) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_everything_naming_the_ingress_controller_names_the_one_of_the_settings(renders, variant, settings):
    assert policies.ingress_identity_violations(renders[variant], settings) == []
    assert policies.acme_solver_violations(renders[variant], settings) == []


def test_another_ingress_controller_is_one_change_of_the_settings(tmp_path, settings):
    tree = deploy_tree(tmp_path)
    other = {"ingress-namespace": "edge", "ingress-service-account": "edge-proxy", "ingress-pod-name": "traefik",
             "ingress-class": "traefik"}
    assert policies.cluster_settings.assign(tree / "k8s/cluster/settings/settings.env",
                                            [f"{k}={v}" for k, v in other.items()]) == []
    changed = {**settings, **other}
    for overlay in ("split-istio", "single-istio"):
        objects = kustomize_build(tree / "k8s/overlays" / overlay)
        assert policies.ingress_identity_violations(objects, changed) == []
        assert policies.acme_solver_violations(objects, changed) == []
        # Nothing kept the old controller: the checker, given the old settings, finds every object.
        stale = policies.ingress_identity_violations(objects, settings)
        assert {v.split(":")[0].split()[0] for v in stale} >= {"NetworkPolicy", "AuthorizationPolicy", "Ingress"}
        values = [v for o in objects for _, v in policies.strings(o)]
        assert not [v for v in values if v in ("ingress-nginx", "nginx") or "/ns/ingress-nginx/" in v]


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_every_claim_names_the_clusters_storage_class(renders, variant, settings, cluster_render):
    assert policies.storage_class_violations(renders[variant] + cluster_render, settings["storage-class"]) == []


def test_the_eks_storage_class_is_the_one_the_settings_name(settings):
    sc = yaml.safe_load((ROOT / "k8s/cluster/storage-class-ebs.yaml").read_text())
    assert sc["metadata"]["name"] == settings["storage-class"]
    assert (sc["provisioner"], sc["reclaimPolicy"], sc["volumeBindingMode"], sc["parameters"]["encrypted"]) == (
        "ebs.csi.aws.com", "Retain", "WaitForFirstConsumer", "true")


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_delete_k_of_an_overlay_leaves_the_namespace_and_the_backups(renders, variant):
    assert policies.delete_safety_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_the_migrations_job_keeps_each_failed_attempts_log(renders, variant):
    assert policies.job_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", ISTIO, ids=lambda v: "+".join(v))
def test_the_app_starts_after_its_sidecar(renders, variant):
    assert policies.sidecar_start_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_the_modules_keep_idle_connections_longer_than_every_proxy_in_front(renders, variant, settings):
    assert policies.idle_timeout_violations(renders[variant], int(settings["ingress-upstream-keepalive-seconds"])) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_postgres_memory_covers_every_connection_within_its_limit(renders, variant):
    assert policies.postgres_memory_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", [v for v in VARIANTS if is_split(v)], ids=lambda v: "+".join(v))
def test_rabbitmq_is_supported_with_an_absolute_watermark_and_no_exec_probes(renders, variant):
    assert policies.named(renders[variant], "StatefulSet", "rabbitmq") is not None
    assert policies.rabbitmq_violations(renders[variant]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=ids)
def test_third_party_images_are_pinned_by_digest(renders, variant):
    assert policies.image_digest_violations(renders[variant], AWAITING_DIGEST) == []


def test_no_image_awaiting_a_digest_is_deployed_and_the_list_is_not_stale(renders):
    for variant in [v for v in VARIANTS if v[0] == "split" and len(v) == 1]:  # what the deploy job applies
        assert policies.image_digest_violations(renders[variant]) == []
    unpinned = {v.split("image ")[1].split()[0].rsplit(":", 1)[0]
                for objects in renders.values() for v in policies.image_digest_violations(objects)}
    assert unpinned == set(AWAITING_DIGEST), "pinned now? remove it from AWAITING_DIGEST"


@pytest.mark.parametrize("variant", ISTIO_MONITORING, ids=lambda v: "+".join(v))
def test_prometheus_can_scrape_through_the_mesh(renders, variant):
    assert policies.of_kind(renders[variant], "ServiceMonitor") and policies.of_kind(renders[variant], "PeerAuthentication")
    assert policies.scrape_violations(renders[variant]) == []


def test_the_metrics_absent_alert_is_there(renders):
    rules = policies.of_kind(renders[("split", "monitoring")], "PrometheusRule")
    exprs = {r["alert"]: r["expr"] for rs in rules for g in rs["spec"]["groups"] for r in g["rules"] if "alert" in r}
    assert exprs["DeliveryhubMetricsAbsent"].startswith("absent(up{")


def test_the_image_the_overlays_name_is_the_one_the_workflow_pushes():
    overlays = {str(p.relative_to(ROOT)): yaml.safe_load(p.read_text()) for p in OVERLAYS}
    assert policies.image_pin_violations(workflow(), overlays) == []
