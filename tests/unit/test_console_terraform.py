"""Wiring of the review console in Terraform (terraform/console.tf), checked by parsing it
with the helpers of test_terraform: its own least-privilege identity, no public invoker, IAP
in front with the audience the function verifies, its settings and secrets, its URL."""

from __future__ import annotations

import re
from pathlib import Path

from tests.unit.test_terraform import (
    PUBLIC_MEMBERS,
    _all_iam_types,
    env_expression_keys,
    function,
    locals_,
    one,
    outputs,
    refers_to,
    resources,
    secret_env_vars,
    service_account_key,
    variables,
)

CONSOLE_SA = "google_service_account.console"


def _console_grants() -> list[tuple[str, str, dict]]:
    found = []
    for resource_type in _all_iam_types():
        for name, body in resources(resource_type).items():
            if refers_to(str(body.get("member", "")), CONSOLE_SA):
                found.append((resource_type, name, body))
    return found


def test_the_console_runs_as_its_own_service_account_with_the_agreed_entry_point() -> None:
    console = function("console")
    service = one(console, "service_config")
    assert service_account_key(service["service_account_email"]) == "console"
    build = one(console, "build_config")
    assert build["entry_point"] == "console" and build["runtime"] == "python311"
    storage = one(one(build, "source"), "storage_source")
    assert refers_to(storage["object"], "google_storage_bucket_object.console_source")
    source = resources("google_storage_bucket_object")["console_source"]
    assert "filemd5(" in source["name"] and "console.zip" in source["source"]


def test_the_console_identity_has_only_what_the_console_needs() -> None:
    roles = set()
    for _, _, body in _console_grants():
        role = body.get("role", "")
        if role == "${each.value}":  # the Cloud SQL pair, a for_each over role names
            roles.update(re.findall(r"roles/[\w.]+", body["for_each"]))
        else:
            roles.add(role)
    assert roles == {
        "roles/cloudsql.client",
        "roles/cloudsql.instanceUser",
        "roles/storage.objectViewer",
        "roles/pubsub.subscriber",
        "roles/pubsub.publisher",
        "roles/secretmanager.secretAccessor",
    }, roles
    raw = resources("google_storage_bucket_iam_member")["console_raw_read"]
    assert refers_to(raw["bucket"], "google_storage_bucket.raw_email")
    dead = resources("google_pubsub_subscription_iam_member")["console_dead_letters"]
    assert refers_to(dead["subscription"], "google_pubsub_subscription.dead_letter")


def test_only_iap_may_invoke_the_console_and_only_through_the_load_balancer() -> None:
    service = one(function("console"), "service_config")
    assert service["ingress_settings"] == "ALLOW_INTERNAL_AND_GCLB"
    invokers = [
        body
        for body in resources("google_cloud_run_v2_service_iam_member").values()
        if refers_to(body["name"], "google_cloudfunctions2_function.console")
    ]
    assert len(invokers) == 1
    assert invokers[0]["member"] == "${local.iap_service_agent}"
    assert "gcp-sa-iap.iam.gserviceaccount.com" in locals_()["iap_service_agent"]
    for body in resources("google_iap_web_backend_service_iam_member").values():
        assert body["role"] == "roles/iap.httpsResourceAccessor"
        assert body["member"] not in PUBLIC_MEMBERS


def test_iap_is_on_and_the_function_checks_its_audience() -> None:
    backend = resources("google_compute_backend_service")["console"]
    assert one(backend, "iap")["enabled"] is True
    neg = resources("google_compute_region_network_endpoint_group")["console"]
    assert neg["network_endpoint_type"] == "SERVERLESS"
    assert one(neg, "cloud_function")["function"] == "${local.console_name}"
    audience = locals_()["console_iap_audience"]
    assert "/global/backendServices/" in audience and "generated_id" in audience
    env = one(function("console"), "service_config")["environment_variables"]
    keys = env_expression_keys(env)
    assert {"CONSOLE_IAP_AUDIENCE", "CONSOLE_ROLES", "CONSOLE_BASE_URL", "DB_USER"} <= keys
    assert "CONSOLE_DEV_SIGN_IN" not in keys  # production refuses it anyway
    rule = resources("google_compute_global_forwarding_rule")["console"]
    assert rule["port_range"] == "443"


def test_the_console_reads_its_secrets_from_secret_manager() -> None:
    secrets = secret_env_vars("console")
    # SMTP_PASSWORD: the alert of a breaker the console's calls or its operators open
    assert set(secrets) == {
        "SENTRY_DSN", "MONGODB_URI", "ANTHROPIC_API_KEY", "SMTP_PASSWORD", "CONSOLE_SECRET_KEY",
    }  # fmt: skip
    assert refers_to(
        secrets["CONSOLE_SECRET_KEY"], "google_secret_manager_secret.console_secret_key"
    )


def test_the_console_logs_in_as_an_iam_database_user_the_pipeline_grants() -> None:
    user = resources("google_sql_user")["console"]
    assert user["type"] == "CLOUD_IAM_SERVICE_ACCOUNT"
    assert "console_database_user" in outputs()
    from infra.grant_tables import OPTIONAL

    assert "console_database_user" in OPTIONAL  # the pipeline's grants (test_grant_tables)


def test_the_console_database_roles_are_limited_to_the_instance() -> None:
    grant = resources("google_project_iam_member")["console_sql"]
    condition = one(grant, "condition")
    assert condition["expression"] == "${local.sql_instance_condition.expression}"


def test_the_load_balancer_waits_for_its_apis_and_iap_for_its_agent() -> None:
    for resource_type in (
        "google_compute_global_address",
        "google_compute_managed_ssl_certificate",
    ):
        assert resources(resource_type)["console"]["depends_on"] == [
            "${google_project_service.console_apis}"
        ], resource_type
    agent = resources("google_project_service_identity")["iap"]
    assert agent["service"] == "iap.googleapis.com"
    invoker = resources("google_cloud_run_v2_service_iam_member")["console_iap_invoker"]
    assert invoker["depends_on"] == ["${google_project_service_identity.iap}"]
    # the pipeline's plans read all of it once console_domain is set
    deployer_roles = variables()["deployer_project_roles"]["default"]
    assert {"roles/compute.loadBalancerAdmin", "roles/iap.admin"} <= set(deployer_roles)


def test_the_console_session_key_is_created_and_filled_with_the_other_secrets() -> None:
    assert "console_secret_key" in outputs()["secret_ids"]["value"]
    doc = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text()
    assert "-target=google_secret_manager_secret.console_secret_key" in doc
    assert "CONSOLE_SECRET_KEY; do" in doc


def test_the_url_is_in_the_outputs_and_the_variables_are_validated() -> None:
    assert "console_domain" in outputs()["console_url"]["value"]
    assert "console_ip" in outputs()
    for name in ("console_domain", "console_members", "console_roles"):
        assert variables()[name].get("validation"), name
    processor_env = one(function("processor"), "service_config")["environment_variables"]
    assert "CONSOLE_BASE_URL" in env_expression_keys(processor_env)
