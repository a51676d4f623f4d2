"""Wiring of the Terraform configuration, checked by parsing it.

The Google provider cannot be downloaded here, so `terraform validate` and
`plan` are out of reach; python-hcl2 parses every `.tf` file and these tests
assert the properties the system relies on: identities, who may invoke what,
the Pub/Sub dead-letter path, secrets only from Secret Manager, and so on.
`terraform fmt -check` runs for real.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

TERRAFORM_DIR = Path(__file__).resolve().parents[2] / "terraform"

FUNCTIONS = ("webhook", "processor", "rollup")
ENTRY_POINTS = {"webhook": "webhook", "processor": "process_email", "rollup": "rollup"}

SECRET_ENV = {
    "ANTHROPIC_API_KEY",
    "SENTRY_DSN",
    "SMTP_PASSWORD",
    "MONGODB_URI",
    "WEBHOOK_MAILGUN_SIGNING_KEY",
    "WEBHOOK_SENDGRID_USERNAME",
    "WEBHOOK_SENDGRID_PASSWORD",
    "WEBHOOK_POSTMARK_USERNAME",
    "WEBHOOK_POSTMARK_PASSWORD",
    "WEBHOOK_RAW_SECRET",
}
PLAIN_ENV = {
    "APP_ENV",
    "GOOGLE_CLOUD_PROJECT",
    "INSTANCE_CONNECTION_NAME",
    "DB_NAME",
    "DB_USER",
    "DB_POOL_SIZE",
    "DB_MAX_OVERFLOW",
    "PUBSUB_TOPIC",
    "PUBSUB_DEAD_LETTER_TOPIC",
    "PUBSUB_DEAD_LETTER_SUBSCRIPTION",
    "RAW_EMAIL_BUCKET",
    "MONGODB_DATABASE",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_FROM",
    "ADMIN_EMAIL",
    "CIRCUIT_BREAKER_ALERT_EMAIL",
    "CIRCUIT_BREAKER_FAIL_MAX",
    "CIRCUIT_BREAKER_RESET_TIMEOUT",
    "CLAUDE_MODEL",
    "SENTRY_ENVIRONMENT",
    "SENTRY_RELEASE",
    "METRICS_RETENTION_DAYS",
    "ROLLUP_TIME_ZONE",
    "WEBHOOK_MAX_BODY_BYTES",
    "LOG_LEVEL",
    "THREADS",
}
INVOKER_IAM_TYPES = (
    "google_cloud_run_v2_service_iam_member",
    "google_cloud_run_v2_service_iam_binding",
    "google_cloud_run_v2_service_iam_policy",
    "google_cloud_run_service_iam_member",
    "google_cloud_run_service_iam_binding",
    "google_cloud_run_service_iam_policy",
    "google_cloudfunctions2_function_iam_member",
    "google_cloudfunctions2_function_iam_binding",
    "google_cloudfunctions2_function_iam_policy",
)
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
ROLLUP_RUN_APP_URI = "${google_cloudfunctions2_function.rollup.service_config[0].uri}"

_OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)


# --- parsing helpers ---------------------------------------------------------


@cache
def _parsed() -> dict[str, dict[str, Any]]:
    files = sorted(TERRAFORM_DIR.glob("*.tf"))
    assert files, f"no .tf files under {TERRAFORM_DIR}"
    return {
        path.name: hcl2.loads(path.read_text(), serialization_options=_OPTIONS) for path in files
    }


def _blocks(kind: str) -> Iterator[dict[str, Any]]:
    for document in _parsed().values():
        yield from document.get(kind, [])


def resources(resource_type: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for block in _blocks("resource"):
        for name, body in block.get(resource_type, {}).items():
            assert name not in found, f"{resource_type}.{name} defined twice"
            found[name] = body
    return found


def variables() -> dict[str, dict[str, Any]]:
    return {name: body for block in _blocks("variable") for name, body in block.items()}


def outputs() -> dict[str, dict[str, Any]]:
    return {name: body for block in _blocks("output") for name, body in block.items()}


def locals_() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for block in _blocks("locals"):
        for name, value in block.items():
            assert name not in merged, f"local.{name} defined twice"
            merged[name] = value
    return merged


def one(body: dict[str, Any], key: str) -> dict[str, Any]:
    """The single nested block `key` of a resource body."""
    value = body.get(key)
    assert isinstance(value, list), f"expected a {key!r} block"
    assert len(value) == 1, f"expected exactly one {key!r} block"
    return value[0]


def function(name: str) -> dict[str, Any]:
    functions = resources("google_cloudfunctions2_function")
    assert name in functions, f"google_cloudfunctions2_function.{name} is missing"
    return functions[name]


def refers_to(expression: object, address: str) -> bool:
    """Whether an expression references a Terraform address (by word boundary)."""
    return isinstance(expression, str) and bool(re.search(rf"\b{re.escape(address)}\b", expression))


def service_account_key(expression: str) -> str:
    """`${google_service_account.sa["webhook"].email}` -> `sa["webhook"]`."""
    match = re.search(r'google_service_account\.(\w+(?:\["[\w-]+"\])?)', expression)
    assert match, f"{expression!r} does not reference a google_service_account"
    return match.group(1)


def env_expression_keys(expression: str | dict[str, Any]) -> set[str]:
    """Keys of an environment_variables value: a map, or merge() of locals and maps."""
    if isinstance(expression, dict):
        return set(expression)
    keys: set[str] = set()
    merged = re.findall(r"(?:merge\(|,\s*)local\.(\w+)(?=\s*[,)])", expression)
    for local_name in merged:
        value = locals_()[local_name]
        assert isinstance(value, dict), f"local.{local_name} is not a map"
        keys |= set(value)
    keys |= set(re.findall(r"[{,]\s*([A-Z][A-Z0-9_]*)\s*=", expression))
    return keys


def secret_env_vars(name: str) -> dict[str, str]:
    """Secret environment variable name -> `secret` expression of one function."""
    service = one(function(name), "service_config")
    found: dict[str, str] = {}
    for block in service.get("secret_environment_variables", []):
        found[block["key"]] = block["secret"]
    for dynamic in service.get("dynamic", []):
        block = dynamic.get("secret_environment_variables")
        if block is None:
            continue
        content = one(block, "content")
        match = re.fullmatch(r"\$\{(?:toset\()?local\.([\w.]+)\)?\}", block["for_each"])
        assert match, f"unexpected for_each {block['for_each']!r} in {name}"
        value: Any = locals_()
        for part in match.group(1).split("."):
            value = value[part]
        assert content["key"] == "${secret_environment_variables.value}"
        for key in value:
            found[key] = content["secret"].replace("secret_environment_variables.value", f'"{key}"')
    return found


# --- formatting --------------------------------------------------------------


def test_terraform_fmt_check_passes() -> None:
    terraform = shutil.which("terraform") or (
        "/usr/local/bin/terraform" if Path("/usr/local/bin/terraform").exists() else None
    )
    if terraform is None:
        pytest.fail(
            "the `terraform` binary (>= 1.5) is not on PATH; install it to run "
            "`terraform fmt -check -recursive terraform/`"
        )
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM_DIR)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"terraform fmt -check failed:\n{result.stdout}\n{result.stderr}"


def test_every_tf_file_parses() -> None:
    assert set(_parsed()) >= {
        "versions.tf",
        "variables.tf",
        "apis.tf",
        "iam.tf",
        "storage.tf",
        "pubsub.tf",
        "sql.tf",
        "secrets.tf",
        "functions.tf",
        "scheduler.tf",
        "monitoring.tf",
        "outputs.tf",
    }


# --- variables and versions --------------------------------------------------


def test_every_variable_has_a_description() -> None:
    missing = [
        name for name, body in variables().items() if not str(body.get("description", "")).strip()
    ]
    assert not missing, f"variables without a description: {missing}"


def test_numeric_and_string_variables_are_validated() -> None:
    free_text = {"dist_dir", "smtp_username"}  # any value is legitimate
    unvalidated = [
        name
        for name, body in variables().items()
        if body.get("type") in ("${number}", "number", "${string}", "string")
        and name not in free_text
        and not body.get("validation")
    ]
    assert not unvalidated, f"variables without validation: {unvalidated}"


def test_terraform_and_provider_versions_are_pinned() -> None:
    terraform_block = next(_blocks("terraform"))
    assert terraform_block["required_version"] == ">= 1.5"
    google = terraform_block["required_providers"][0]["google"]
    assert google["source"] == "hashicorp/google"


# --- identities --------------------------------------------------------------


def test_each_function_runs_as_its_own_service_account() -> None:
    keys = {}
    for name in FUNCTIONS:
        expression = one(function(name), "service_config")["service_account_email"]
        keys[name] = service_account_key(expression)
        assert keys[name] == f'sa["{name}"]', f"{name} runs as {keys[name]}"
    assert len(set(keys.values())) == len(FUNCTIONS), keys
    accounts = locals_()["service_accounts"]
    assert set(FUNCTIONS) | {"scheduler"} <= set(accounts)


def test_functions_use_the_agreed_runtime_and_entry_points() -> None:
    for name, entry in ENTRY_POINTS.items():
        build = one(function(name), "build_config")
        assert build["runtime"] == "python311"
        assert build["entry_point"] == entry
        storage = one(one(build, "source"), "storage_source")
        assert refers_to(storage["object"], "google_storage_bucket_object.source")


def test_source_object_name_carries_the_archive_md5() -> None:
    source = resources("google_storage_bucket_object")["source"]
    assert source["name"] == "${each.key}-${local.archive_md5s[each.key]}.zip"
    assert locals_()["archive_md5s"] == "${{for fn, path in local.archives : fn => filemd5(path)}}"
    assert source["source"] == "${each.value}"
    assert "${fn}.zip" in locals_()["archives"]


# --- who may invoke what -----------------------------------------------------


def _invoker_grants() -> list[tuple[str, str, dict[str, Any]]]:
    grants = []
    for resource_type in INVOKER_IAM_TYPES:
        for name, body in resources(resource_type).items():
            grants.append((resource_type, name, body))
    return grants


def _grant_targets(body: dict[str, Any], function_name: str) -> bool:
    target = body.get("name") or body.get("service") or body.get("cloud_function") or ""
    return refers_to(target, f"google_cloudfunctions2_function.{function_name}")


def _grant_members(body: dict[str, Any]) -> list[str]:
    members = body.get("members") or [body.get("member", "")]
    return [str(member) for member in members]


@pytest.mark.parametrize("name", ["processor", "rollup"])
def test_private_functions_have_no_public_invoker(name: str) -> None:
    for resource_type, grant_name, body in _invoker_grants():
        if _grant_targets(body, name):
            public = [m for m in _grant_members(body) if m in PUBLIC_MEMBERS]
            assert not public, f"{resource_type}.{grant_name} makes {name} public"
    ingress = one(function(name), "service_config")["ingress_settings"]
    assert ingress == "ALLOW_INTERNAL_ONLY"


def test_no_public_member_anywhere_but_the_webhook_invoker() -> None:
    public_grants = []
    for resource_type in {*INVOKER_IAM_TYPES, *_all_iam_types()}:
        for name, body in resources(resource_type).items():
            if any(member in PUBLIC_MEMBERS for member in _grant_members(body)):
                public_grants.append((resource_type, name, body))
    assert len(public_grants) == 1, public_grants
    resource_type, _, body = public_grants[0]
    assert resource_type in INVOKER_IAM_TYPES
    assert _grant_targets(body, "webhook")
    assert body["role"] == "roles/run.invoker"


def _all_iam_types() -> set[str]:
    return {
        resource_type
        for block in _blocks("resource")
        for resource_type in block
        if "_iam_" in resource_type
    }


def _invokers_of(function_name: str) -> set[str]:
    invokers = set()
    for _, _, body in _invoker_grants():
        if _grant_targets(body, function_name) and body.get("role") in (
            "roles/run.invoker",
            "roles/cloudfunctions.invoker",
        ):
            invokers |= {
                service_account_key(m)
                for m in _grant_members(body)
                if "google_service_account" in m
            }
    return invokers


def test_scheduler_calls_rollup_with_an_oidc_token_that_may_invoke_it() -> None:
    jobs = resources("google_cloud_scheduler_job")
    assert "rollup" in jobs
    job = jobs["rollup"]
    assert job["schedule"] == "30 1 * * *"
    assert job["time_zone"] == "${var.time_zone}"
    assert job.get("retry_config"), "the scheduler job needs a retry config"
    target = one(job, "http_target")
    # The function's run.app URL (Scheduler's calls there count as internal traffic for
    # the internal-only ingress), and the same URL as the token's audience.
    assert target["uri"] == ROLLUP_RUN_APP_URI
    oidc = one(target, "oidc_token")
    assert oidc["audience"] == ROLLUP_RUN_APP_URI
    env = one(function("rollup"), "service_config")["environment_variables"]
    assert "ROLLUP_AUDIENCE" in env_expression_keys(env)
    assert "ROLLUP_ALLOWED_INVOKERS" in env_expression_keys(env)
    scheduler_account = service_account_key(oidc["service_account_email"])
    assert scheduler_account in _invokers_of("rollup")
    # ... and that identity may invoke nothing else.
    for other in ("webhook", "processor"):
        assert scheduler_account not in _invokers_of(other)


def test_outbox_sweep_job_calls_the_rollup_function_with_the_sweep_task() -> None:
    """Due notifications are sent every 5 minutes even when no email arrives."""
    job = resources("google_cloud_scheduler_job")["outbox_sweep"]
    assert job["schedule"] == "2-59/5 * * * *"
    target = one(job, "http_target")
    assert target["uri"] == ROLLUP_RUN_APP_URI
    assert target["body"] == '${base64encode("{\\"task\\": \\"outbox_sweep\\"}")}'
    oidc = one(target, "oidc_token")
    assert oidc["audience"] == ROLLUP_RUN_APP_URI
    scheduler = service_account_key(oidc["service_account_email"])
    assert scheduler == service_account_key(
        one(one(resources("google_cloud_scheduler_job")["rollup"], "http_target"), "oidc_token")[
            "service_account_email"
        ]
    )
    env = env_expression_keys(one(function("rollup"), "service_config")["environment_variables"])
    assert {"SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_FROM"} <= env
    assert "SMTP_PASSWORD" in secret_env_vars("rollup")


def _cron_minutes(schedule: str) -> set[int]:
    """Minutes of the hour a cron schedule fires at (minute field: N, */S, A-B/S)."""
    field = schedule.split(maxsplit=1)[0]
    match = re.fullmatch(r"(?:(\*)|(\d+)(?:-(\d+))?)(?:/(\d+))?", field)
    assert match, f"unsupported minute field {field!r}"
    star, first, last, step = match.groups()
    start = 0 if star else int(first)
    end = 59 if star or last or step else start
    if last:
        end = int(last)
    return set(range(start, end + 1, int(step or 1)))


def test_the_rollup_and_the_outbox_sweep_never_start_at_the_same_minute() -> None:
    """The rollup function takes one request at a time: a collision refuses a call, and a
    refused rollup attempt is an ERROR that pages."""
    jobs = resources("google_cloud_scheduler_job")
    rollup = _cron_minutes(jobs["rollup"]["schedule"])
    sweep = _cron_minutes(jobs["outbox_sweep"]["schedule"])
    assert sweep == set(range(2, 60, 5))
    assert len(sweep) == 12, "the sweep still runs every 5 minutes"
    assert not rollup & sweep, (rollup, sweep)
    assert not sweep & {0, 30}
    # every rollup minute leaves the sweep before it at least 2 minutes to finish
    assert all(min((r - s) % 60 for s in sweep) >= 2 for r in rollup)
    assert _cron_minutes("*/5 * * * *") & rollup, "the old schedule collided"


def test_the_deployer_may_set_the_iam_policy_of_service_accounts() -> None:
    """Grants on a service account (the Pub/Sub agent minting push tokens, ...) need
    iam.serviceAccounts.setIamPolicy: roles/iam.serviceAccountAdmin, not roles/editor."""
    grants = resources("google_service_account_iam_member")
    assert grants
    for name, grant in grants.items():
        assert "${google_project_iam_member.deployer}" in grant.get("depends_on", []), name
    roles = variables()["deployer_project_roles"]["default"]
    assert "roles/iam.serviceAccountAdmin" in roles
    deployer = resources("google_project_iam_member")["deployer"]
    assert deployer["for_each"] == "${toset(var.deployer_project_roles)}"
    assert deployer["member"] == '${google_service_account.sa["deployer"].member}'


# --- Pub/Sub -----------------------------------------------------------------


def _processor_subscription() -> dict[str, Any]:
    subscriptions = [
        body
        for body in resources("google_pubsub_subscription").values()
        if body.get("push_config")
        and refers_to(
            one(body, "push_config")["push_endpoint"],
            "google_cloudfunctions2_function.processor",
        )
    ]
    assert len(subscriptions) == 1, "expected one push subscription to the processor"
    return subscriptions[0]


def _topic_name(expression: str) -> str:
    match = re.search(r"google_pubsub_topic\.(\w+)", expression)
    assert match, f"{expression!r} is not a google_pubsub_topic reference"
    return match.group(1)


def test_processor_subscription_dead_letters_to_a_topic_that_keeps_them() -> None:
    subscription = _processor_subscription()
    dead_letter = one(subscription, "dead_letter_policy")
    dead_topic = _topic_name(dead_letter["dead_letter_topic"])
    assert dead_topic != _topic_name(subscription["topic"])
    keepers = [
        body
        for body in resources("google_pubsub_subscription").values()
        if _topic_name(body["topic"]) == dead_topic
    ]
    assert keepers, f"nothing subscribes to {dead_topic}: dead letters would be lost"
    assert dead_letter["max_delivery_attempts"] == "${var.max_delivery_attempts}"
    assert variables()["max_delivery_attempts"]["default"] == 10


def test_processor_subscription_backs_off_and_outlasts_the_processor() -> None:
    subscription = _processor_subscription()
    retry = one(subscription, "retry_policy")
    assert retry["minimum_backoff"]
    assert retry["maximum_backoff"]
    assert subscription["message_retention_duration"] in (
        "604800s",
        "${local.message_retention}",
    )
    assert locals_().get("message_retention", "604800s") == "604800s"
    ack = subscription["ack_deadline_seconds"]
    if isinstance(ack, str):
        ack = locals_()[ack.removeprefix("${local.").removesuffix("}")]
    timeout = variables()["processor_timeout_seconds"]
    assert ack > timeout["default"]
    max_timeout = re.search(r"<= (\d+)", one(timeout, "validation")["condition"])
    assert max_timeout, "processor_timeout_seconds needs an upper bound"
    assert ack > int(max_timeout.group(1))


def test_processor_push_uses_an_oidc_identity_that_may_invoke_it() -> None:
    push = one(_processor_subscription(), "push_config")
    oidc = one(push, "oidc_token")
    assert refers_to(oidc["audience"], "google_cloudfunctions2_function.processor")
    assert service_account_key(oidc["service_account_email"]) in _invokers_of("processor")


def test_pubsub_service_agent_can_dead_letter() -> None:
    agent = locals_()["pubsub_service_agent"]
    assert "gcp-sa-pubsub.iam.gserviceaccount.com" in agent
    topic_grants = resources("google_pubsub_topic_iam_member").values()
    assert any(
        g["member"] == "${local.pubsub_service_agent}"
        and g["role"] == "roles/pubsub.publisher"
        and _topic_name(g["topic"]) == "dead_letter"
        for g in topic_grants
    )
    subscription_grants = resources("google_pubsub_subscription_iam_member").values()
    assert any(
        g["member"] == "${local.pubsub_service_agent}"
        and g["role"] == "roles/pubsub.subscriber"
        and refers_to(g["subscription"], "google_pubsub_subscription.processor")
        for g in subscription_grants
    )


# --- secrets -----------------------------------------------------------------

_SECRET_LITERALS = [
    re.compile(p)
    for p in (
        r"sk-ant-[A-Za-z0-9_-]{8,}",  # Anthropic
        r"AKIA[0-9A-Z]{16}",  # AWS
        r"AIza[0-9A-Za-z_-]{35}",  # Google API key
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
        r"\"private_key_id\"",
        r"https://[0-9a-f]{16,}@[\w.-]*sentry",  # Sentry DSN
        r"mongodb(?:\+srv)?://[^\s\"/:@]+:[^\s\"@]+@",  # URI with credentials
        r"\bkey-[0-9a-f]{32}\b",  # Mailgun
        r"\bSG\.[\w-]{16,}\.[\w-]{16,}",  # SendGrid
        r"\bxox[abposr]-[\w-]{10,}",
        r"\bgh[pousr]_[A-Za-z0-9]{30,}",
    )
]
_SECRET_ATTRIBUTE = re.compile(
    r"(password|passwd|secret|api_key|apikey|token|dsn|private_key)", re.IGNORECASE
)


def _attributes(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _attributes(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _attributes(value, f"{path}[{index}]")
    else:
        yield path, node


def test_no_secret_literal_in_any_tf_file() -> None:
    for path in sorted(TERRAFORM_DIR.rglob("*.tf*")):
        if ".terraform" in path.parts or ".tfstate" in path.name:
            continue
        text = path.read_text()
        for pattern in _SECRET_LITERALS:
            assert not pattern.search(text), (
                f"{path.name} contains a secret-like literal ({pattern.pattern})"
            )


def test_secret_looking_attributes_hold_references_not_values() -> None:
    for file_name, document in _parsed().items():
        for path, value in _attributes(document):
            last = re.sub(r"\[\d+\]$", "", path.rsplit(".", 1)[-1])
            if not isinstance(value, str) or not _SECRET_ATTRIBUTE.search(last):
                continue
            if last in ("description", "error_message"):
                continue
            harmless = (
                value in ("", "latest")
                or "${" in value  # a reference or an expression
                or re.fullmatch(r"[A-Z][A-Z0-9_]*", value)  # an env var's name
                or (".secret_versions." in path and re.fullmatch(r"[1-9][0-9]*", value))
            )
            assert harmless, f"{file_name}: {path} = {value!r} looks like a literal secret"


def test_no_secret_value_enters_terraform() -> None:
    assert not resources("google_secret_manager_secret_version"), (
        "a secret version in Terraform puts the secret value into the state"
    )
    for name, body in variables().items():
        if name == "secret_versions":  # version numbers of the secrets, not their values
            continue
        assert not _SECRET_ATTRIBUTE.search(name), f"variable {name} looks like a secret input"
        assert body.get("sensitive") is not True, f"variable {name} is a sensitive input"


def test_secret_manager_holds_every_agreed_secret() -> None:
    secret = resources("google_secret_manager_secret")["app"]
    assert secret["for_each"] == "${toset(local.secret_names)}"
    assert set(locals_()["secret_names"]) == SECRET_ENV


@pytest.mark.parametrize("name", FUNCTIONS)
def test_secret_env_vars_come_from_secret_manager(name: str) -> None:
    declared = set(locals_()["secret_names"])
    for key, expression in secret_env_vars(name).items():
        assert key in SECRET_ENV, f"{name}: {key} is not an agreed secret"
        assert refers_to(expression, "google_secret_manager_secret.app"), expression
        assert key in declared
    plain = env_expression_keys(one(function(name), "service_config")["environment_variables"])
    assert not plain & SECRET_ENV, f"{name} gets a secret as a plain variable: {plain & SECRET_ENV}"


def test_each_function_reads_only_the_secrets_it_needs() -> None:
    webhook = set(secret_env_vars("webhook"))
    processor = set(secret_env_vars("processor"))
    rollup = set(secret_env_vars("rollup"))
    assert {k for k in SECRET_ENV if k.startswith("WEBHOOK_")} <= webhook
    assert not {"ANTHROPIC_API_KEY", "MONGODB_URI", "SMTP_PASSWORD"} & webhook
    assert {
        "ANTHROPIC_API_KEY",
        "MONGODB_URI",
        "SMTP_PASSWORD",
        "SENTRY_DSN",
    } <= processor
    assert not {k for k in processor | rollup if k.startswith("WEBHOOK_")}
    assert webhook | processor | rollup == SECRET_ENV
    # the accessor grants follow the same map
    grants = resources("google_secret_manager_secret_iam_member")["function_reads"]
    assert grants["for_each"] == "${local.secret_grants}"
    assert "local.function_secrets" in locals_()["secret_grants"]


# --- environment and sizing --------------------------------------------------


def test_functions_get_every_agreed_setting() -> None:
    keys = set().union(
        *(
            env_expression_keys(one(function(name), "service_config")["environment_variables"])
            for name in FUNCTIONS
        )
    )
    assert keys >= PLAIN_ENV, f"missing: {sorted(PLAIN_ENV - keys)}"


def test_the_webhook_cannot_reach_postgres() -> None:
    """No way in for the webhook: no Cloud SQL role and no database user (and no database
    settings: test_the_webhook_gets_no_database_settings)."""
    for resource_type in ("google_project_iam_member", "google_sql_user"):
        for name, body in resources(resource_type).items():
            role = str(body.get("role", ""))
            if resource_type == "google_project_iam_member" and "cloudsql" not in role:
                continue
            assert '"webhook"' not in str(body.get("for_each", "")), (resource_type, name)
            assert 'sa["webhook"]' not in str(body.get("member", "")), (resource_type, name)
            assert 'sa["webhook"]' not in str(body.get("name", "")), (resource_type, name)


def test_processor_lease_outlives_the_longest_attempt() -> None:
    """A slow attempt keeps its email's lease until Cloud Run has cut it off."""
    from shared.config import load_settings

    env = one(function("processor"), "service_config")["environment_variables"]
    assert "PROCESSOR_LEASE_SECONDS = tostring(var.processor_timeout_seconds + 60)" in env
    # the rules read an email Claude keeps failing before it is dead-lettered
    assert (
        "PROCESSOR_CLAUDE_OUTAGE_FALLBACK_ATTEMPT = tostring(var.max_delivery_attempts - 1)" in env
    )
    validation = one(variables()["processor_timeout_seconds"], "validation")["condition"]
    bounds = re.search(
        r"var\.processor_timeout_seconds >= (\d+) && var\.processor_timeout_seconds <= (\d+)",
        validation,
    )
    assert bounds, validation
    for timeout in (int(bounds.group(1)), 300, int(bounds.group(2))):
        settings = load_settings({"PROCESSOR_LEASE_SECONDS": str(timeout + 60)})
        assert settings.processor_lease_seconds == timeout + 60 > timeout


@pytest.mark.parametrize("name", FUNCTIONS)
def test_threads_match_request_concurrency(name: str) -> None:
    service = one(function(name), "service_config")
    env = service["environment_variables"]
    match = re.search(r'THREADS = (?:tostring\(([\w.]+)\)|"(\d+)")', env)
    assert match, f"{name} sets no THREADS"
    threads = match.group(1) or match.group(2)
    concurrency = str(service["max_instance_request_concurrency"])
    assert concurrency in (threads, f"${{{threads}}}"), (name, concurrency, threads)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_are_sized_explicitly(name: str) -> None:
    service = one(function(name), "service_config")
    for key in (
        "available_cpu",
        "available_memory",
        "max_instance_request_concurrency",
        "min_instance_count",
        "max_instance_count",
        "timeout_seconds",
    ):
        assert key in service, f"{name} does not set {key}"


def test_connection_budget_is_checked_and_explained() -> None:
    text = (TERRAFORM_DIR / "functions.tf").read_text()
    assert "max_instances x (pool + overflow)" in text
    precondition = one(one(function("processor"), "lifecycle"), "precondition")
    assert "local.db_connections_worst_case < var.sql_max_connections" in precondition["condition"]
    assert "local.ops_connections" in str(locals_()["db_connections_worst_case"])
    # with the defaults: 2 x (4 x (8 + 2) + 1 x (2 + 0)) + 2 + 2 + 3 = 91 < 100
    defaults = {name: body.get("default") for name, body in variables().items()}
    worst = (
        2 * (defaults["processor_max_instances"] * (defaults["processor_concurrency"] + 2) + 2) + 7
    )
    assert worst == 91
    assert worst < defaults["sql_max_connections"]


# --- storage and database ----------------------------------------------------


def test_raw_email_bucket_is_private_and_keeps_mail_for_the_retention() -> None:
    bucket = resources("google_storage_bucket")["raw_email"]
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    assert one(bucket, "versioning")["enabled"] is False
    deletes = [
        one(rule, "condition")
        for rule in bucket["lifecycle_rule"]
        if one(rule, "action")["type"] == "Delete"
    ]
    # Mail itself is kept for the whole retention; only replay markers and the bodies of
    # refused requests (rejected/) expire early.
    assert {"age": "${var.raw_email_retention_days}"} in deletes
    allowed_prefixes = (["replay/"], ["rejected/"])
    for condition in deletes:
        if condition != {"age": "${var.raw_email_retention_days}"}:
            assert condition["matches_prefix"] in allowed_prefixes, condition
    assert {
        "age": "${var.rejected_request_retention_days}",
        "matches_prefix": ["rejected/"],
    } in deletes
    assert variables()["rejected_request_retention_days"]["default"] == 3 * 365
    assert variables()["raw_email_retention_days"]["default"] == 3 * 365


def test_cloud_sql_is_postgres_15_with_backups_pitr_and_iam_auth() -> None:
    instance = resources("google_sql_database_instance")["main"]
    assert instance["database_version"] == "POSTGRES_15"
    assert instance["deletion_protection"] == "${var.sql_deletion_protection}"
    assert variables()["sql_deletion_protection"]["default"] is True
    settings = one(instance, "settings")
    backup = one(settings, "backup_configuration")
    assert backup["enabled"] is True
    assert backup["point_in_time_recovery_enabled"] is True
    flags = {flag["name"]: flag["value"] for flag in settings["database_flags"]}
    assert flags["cloudsql.iam_authentication"] == "on"
    assert "max_connections" in flags
    ip = one(settings, "ip_configuration")
    assert "authorized_networks" not in ip
    assert settings["connector_enforcement"] == "REQUIRED"


def test_processor_and_rollup_log_in_as_iam_database_users() -> None:
    users = resources("google_sql_user")["iam"]
    assert users["type"] == "CLOUD_IAM_SERVICE_ACCOUNT"
    assert "password" not in users
    assert {"processor", "rollup"} <= set(re.findall(r'"(\w+)"', users["for_each"]))
    for name in ("processor", "rollup"):
        env = one(function(name), "service_config")["environment_variables"]
        assert f'google_sql_user.iam["{name}"].name' in env


# --- monitoring --------------------------------------------------------------


def test_log_based_metrics_follow_the_agreed_log_lines() -> None:
    metrics = resources("google_logging_metric")
    expected = {
        "webhook_received": 'jsonPayload.message="webhook_received"',
        "processing_errors": 'jsonPayload.message=("email_retry" OR "email_failed"',
        "notification_failed": '"notification_failed" OR "notification_send_failed"',
        "breaker_opened": 'jsonPayload.message="breaker_opened"',
        "rollup_failed": 'jsonPayload.message="rollup_failed"',
        "outbox_sweep_failed": 'jsonPayload.message="outbox_sweep_failed"',
    }
    for name, fragment in expected.items():
        assert name in metrics, f"log metric {name} is missing"
        metric_filter = metrics[name]["filter"].replace('\\"', '"')
        assert fragment in metric_filter, metric_filter
    assert metrics["webhook_received"]["label_extractors"] == {
        "provider": "EXTRACT(jsonPayload.provider)"
    }
    assert metrics["breaker_opened"]["label_extractors"] == {
        "breaker": "EXTRACT(jsonPayload.breaker)"
    }


def _conditions_on(metric: str) -> dict[str, dict[str, Any]]:
    """Resource type -> threshold condition of every alert condition on a log metric."""
    found = {}
    for policy in resources("google_monitoring_alert_policy").values():
        for condition in policy["conditions"]:
            threshold = one(condition, "condition_threshold")
            if f"google_logging_metric.{metric}.name" in threshold["filter"]:
                resource_type = re.search(r'resource\.type=\\?"(\w+)', threshold["filter"])
                assert resource_type, f"{metric}: a condition without resource.type"
                found[resource_type.group(1)] = threshold
    return found


def test_notification_failures_of_the_outbox_sweep_page_too() -> None:
    """The 5-minute sweep runs in the rollup function and logs the same give-ups; its own
    failure (Postgres down, Scheduler attempt refused) pages once it lasts."""
    metrics = resources("google_logging_metric")
    notification = metrics["notification_failed"]["filter"]
    assert notification.startswith(
        "(${local.run_service_filter.processor} OR ${local.run_service_filter.rollup}) AND "
    ), notification
    assert "severity>=ERROR" in notification
    sweep = metrics["outbox_sweep_failed"]["filter"].replace('\\"', '"')
    assert '(${local.run_service_filter.rollup} AND jsonPayload.message="outbox_sweep_failed")' in (
        sweep
    )
    assert (
        'resource.labels.job_id="${google_cloud_scheduler_job.outbox_sweep.name}" '
        "AND severity>=ERROR" in sweep
    )
    conditions = _conditions_on("outbox_sweep_failed")
    assert set(conditions) == {"cloud_run_revision", "cloud_scheduler_job"}
    tolerated = locals_()["outbox_sweep_failures_tolerated"]
    assert tolerated == "${ceil(local.rollup_timeout_seconds / 300)}"
    for threshold in conditions.values():
        assert threshold["threshold_value"] == "${local.outbox_sweep_failures_tolerated}"
        assert one(threshold, "aggregations")["alignment_period"] == "1800s"
    # 3 refused sweeps during a 15-minute rollup stay below the threshold; 6 of 6 do not.
    assert -(-int(locals_()["rollup_timeout_seconds"]) // 300) == 3
    assert "cloud_run_revision" in _conditions_on("notification_failed")


def test_alerts_cover_the_agreed_signals_and_reach_ops() -> None:
    policies = resources("google_monitoring_alert_policy")
    assert set(policies) >= {
        "breaker_opened",
        "dead_letters",
        "dead_letters_new",
        "backlog_age",
        "rollup_failed",
    }
    channel = resources("google_monitoring_notification_channel")["ops_email"]
    assert channel["type"] == "email"
    assert channel["labels"] == {"email_address": "${var.ops_email}"}
    for name, policy in policies.items():
        assert policy["notification_channels"] == [
            "${google_monitoring_notification_channel.ops_email.id}"
        ], name
    dead = one(one(policies["dead_letters"], "conditions"), "condition_threshold")
    assert "num_undelivered_messages" in dead["filter"]
    assert "google_pubsub_subscription.dead_letter.name" in dead["filter"]
    # a dead letter arriving while earlier ones still wait pages again
    new = one(one(policies["dead_letters_new"], "conditions"), "condition_threshold")
    assert "subscription/dead_letter_message_count" in new["filter"]
    assert "google_pubsub_subscription.processor.name" in new["filter"]
    assert one(new, "aggregations")["per_series_aligner"] == "ALIGN_DELTA"
    backlog = one(one(policies["backlog_age"], "conditions"), "condition_threshold")
    assert "oldest_unacked_message_age" in backlog["filter"]
    assert backlog["threshold_value"] == "${var.backlog_alert_age_seconds}"
    assert resources("google_monitoring_dashboard")


def test_outputs_give_an_operator_what_they_need() -> None:
    names = set(outputs())
    assert names >= {
        "webhook_urls",
        "raw_email_bucket",
        "pubsub_topic",
        "pubsub_subscription",
        "pubsub_dead_letter_topic",
        "pubsub_dead_letter_subscription",
        "instance_connection_name",
        "logs_query_template",
        "secret_ids",
    }
    urls = outputs()["webhook_urls"]["value"]
    for route in ("mailgun", "sendgrid", "postmark", "raw"):
        assert route in urls
    assert outputs()["logs_query_template"]["value"] == 'jsonPayload.correlation_id="<ID>"'
    for name, body in outputs().items():
        assert str(body.get("description", "")).strip(), f"output {name} has no description"


def test_the_webhook_gets_no_database_settings() -> None:
    plain = env_expression_keys(one(function("webhook"), "service_config")["environment_variables"])
    assert "THREADS" in plain
    assert not {"INSTANCE_CONNECTION_NAME", "DB_USER", "DB_NAME", "DATABASE_URL"} & plain
    processor = env_expression_keys(
        one(function("processor"), "service_config")["environment_variables"]
    )
    assert {"INSTANCE_CONNECTION_NAME", "DB_USER"} <= processor
    deploy = " ".join((TERRAFORM_DIR.parent / "docs" / "deploy.md").read_text().split())
    assert "The webhook receives no database settings" in deploy
    assert "shared configuration requires them" not in deploy


def test_log_based_metrics_match_events_the_code_logs() -> None:
    """Every ``jsonPayload.message="…"`` a metric filters on is an event some function logs."""
    shared = TERRAFORM_DIR.parent / "shared"
    code = "\n".join(path.read_text() for path in shared.rglob("*.py"))
    filters = [body["filter"] for body in resources("google_logging_metric").values()]
    events = {
        event
        for expression in filters
        for group in re.findall(
            r"jsonPayload\.message=\(?((?:\\?\"[a-z_]+\\?\"(?: OR )?)+)", expression
        )
        for event in re.findall(r"([a-z_]+)", group)
        if event != "OR"
    }
    assert {"webhook_received", "breaker_opened", "rollup_failed", "email_failed"} <= events
    for event in sorted(events):
        assert f'"{event}"' in code, f"no code logs the event {event!r} a log metric counts"


# --- operators -----------------------------------------------------------------


def test_ops_env_output_renders_the_ops_cli_settings_for_this_deployment() -> None:
    """`terraform output -raw ops_env` is the --env-file of `python -m shared.ops`: the
    deployer's IAM database user, the real resource names, no secret value."""
    import dataclasses

    from shared.config import Settings

    ops_env = locals_()["ops_env"]
    assert ops_env.startswith("${merge(local.common_env, local.db_env, {")
    keys = env_expression_keys(ops_env)
    assert keys >= {
        "APP_ENV",
        "GOOGLE_CLOUD_PROJECT",
        "INSTANCE_CONNECTION_NAME",
        "DB_IP_TYPE",
        "DB_NAME",
        "DB_USER",
        "DB_POOL_SIZE",
        "DB_MAX_OVERFLOW",
        "PUBSUB_TOPIC",
        "PUBSUB_DEAD_LETTER_TOPIC",
        "PUBSUB_DEAD_LETTER_SUBSCRIPTION",
        "PUBSUB_PROCESSOR_SUBSCRIPTION",
        "RAW_EMAIL_BUCKET",
        "MONGODB_DATABASE",
        "ROLLUP_SCHEDULER_JOB",
        "ROLLUP_SCHEDULER_LOCATION",
    }, sorted(keys)
    assert not keys & SECRET_ENV
    fields = {spec.name.upper() for spec in dataclasses.fields(Settings)}
    assert keys <= fields, f"not settings: {sorted(keys - fields)}"
    assert 'DB_USER = google_sql_user.iam["deployer"].name' in ops_env
    assert "ROLLUP_SCHEDULER_JOB = google_cloud_scheduler_job.rollup.name" in ops_env
    assert "ROLLUP_SCHEDULER_LOCATION = var.region" in ops_env
    # the connection budget counts the operator's pool
    pool = re.search(r'DB_POOL_SIZE = "(\d+)"', ops_env)
    overflow = re.search(r'DB_MAX_OVERFLOW = "(\d+)"', ops_env)
    breaker = re.search(r'CIRCUIT_BREAKER_STORE_POOL_SIZE = "(\d+)"', ops_env)
    assert pool and overflow and breaker
    used = int(pool.group(1)) + int(overflow.group(1)) + int(breaker.group(1))
    assert used == locals_()["ops_connections"]
    common = locals_()["common_env"]
    assert common["PUBSUB_DEAD_LETTER_SUBSCRIPTION"] == (
        "${google_pubsub_subscription.dead_letter.name}"
    )
    assert common["RAW_EMAIL_BUCKET"] == "${google_storage_bucket.raw_email.name}"
    value = outputs()["ops_env"]["value"]
    assert '"${key}=${value}\\n"' in value and "local.ops_env" in value
    assert 'google_secret_manager_secret.app["MONGODB_URI"].secret_id' in value
    assert "sensitive" not in outputs()["ops_env"]


def test_operators_impersonate_the_deployer_only_when_listed() -> None:
    variable = variables()["ops_principals"]
    assert variable["type"] == "${list(string)}"
    assert variable["default"] == []
    assert variable.get("validation")
    grant = resources("google_service_account_iam_member")["ops_impersonate_deployer"]
    assert grant["for_each"] == "${toset(var.ops_principals)}"
    assert grant["service_account_id"] == '${google_service_account.sa["deployer"].name}'
    assert grant["role"] == "roles/iam.serviceAccountTokenCreator"
    assert grant["member"] == "${each.value}"
    # Nobody else may impersonate the deployer.
    for name, other in resources("google_service_account_iam_member").items():
        if name != "ops_impersonate_deployer":
            assert 'sa["deployer"]' not in other["service_account_id"], name
    # The deployer is a Cloud SQL IAM user that may connect and log in (it owns the tables:
    # it runs the migrations).
    assert '"deployer"' in resources("google_sql_user")["iam"]["for_each"]
    for grant_name in ("sql_client", "sql_instance_user"):
        assert '"deployer"' in resources("google_project_iam_member")[grant_name]["for_each"]
    docs = (TERRAFORM_DIR.parent / "docs" / "operations.md").read_text()
    assert "--impersonate-service-account" in docs
    assert "terraform -chdir=terraform output -raw ops_env" in docs
    assert "ops_principals" in docs


# --- what a first apply on a real project needs ------------------------------------

REPO_ROOT = TERRAFORM_DIR.parent
BUILD_ROLES = {
    "roles/cloudbuild.builds.builder",
    "roles/logging.logWriter",
    "roles/artifactregistry.writer",
    "roles/storage.objectAdmin",
}


def _depends_on(body: dict[str, Any]) -> list[str]:
    return [str(entry) for entry in body.get("depends_on", [])]


def test_the_build_account_may_read_the_copy_cloud_functions_makes_of_the_source() -> None:
    """The build fetches the archive from gcf-v2-sources-<number>-<region>, not from our
    bucket: project-level roles as in the provider's cloudfunctions2 examples."""
    build = resources("google_project_iam_member")["build"]
    assert build["member"] == '${google_service_account.sa["build"].member}'
    assert build["for_each"] == "${toset(local.build_roles)}"
    assert set(locals_()["build_roles"]) == BUILD_ROLES


def test_functions_wait_for_the_build_roles_to_propagate() -> None:
    sleep = resources("time_sleep")["build_iam_propagation"]
    assert sleep["create_duration"] == "60s"
    assert "${google_project_iam_member.build}" in _depends_on(sleep)
    for name in FUNCTIONS:
        assert "${time_sleep.build_iam_propagation}" in _depends_on(function(name)), name


def test_every_provider_used_is_required() -> None:
    required = next(_blocks("terraform"))["required_providers"][0]
    assert required["google-beta"]["source"] == "hashicorp/google-beta"
    assert required["time"]["source"] == "hashicorp/time"
    assert required["google-beta"]["version"] == required["google"]["version"]
    providers = {name for block in _blocks("provider") for name in block}
    assert {"google", "google-beta"} <= providers


def test_the_pubsub_service_agent_exists_before_it_is_granted_anything() -> None:
    identity = resources("google_project_service_identity")["pubsub"]
    assert identity["service"] == "pubsub.googleapis.com"
    assert identity["provider"] in ("google-beta", "${google-beta}")
    grants = [
        (resource_type, name, body)
        for resource_type in _all_iam_types()
        for name, body in resources(resource_type).items()
        if body.get("member") == "${local.pubsub_service_agent}"
    ]
    assert len(grants) == 3, grants
    for resource_type, name, body in grants:
        assert "${google_project_service_identity.pubsub}" in _depends_on(body), (
            resource_type,
            name,
        )


def test_dead_letters_are_kept_as_long_as_pubsub_allows() -> None:
    dead_letter = resources("google_pubsub_subscription")["dead_letter"]
    assert dead_letter["message_retention_duration"] == "${local.dead_letter_retention}"
    assert locals_()["dead_letter_retention"] == f"{31 * 24 * 3600}s"


def test_secret_versions_are_pinned_per_secret() -> None:
    for path in TERRAFORM_DIR.glob("*.tf"):
        assert '"latest"' not in path.read_text().replace('never \\"latest\\"', ""), path.name
    for name in FUNCTIONS:
        service = one(function(name), "service_config")
        for dynamic in service.get("dynamic", []):
            content = one(dynamic["secret_environment_variables"], "content")
            assert content["version"] == (
                "${var.secret_versions[secret_environment_variables.value]}"
            ), name
    default = variables()["secret_versions"]["default"]
    assert set(default) == SECRET_ENV | {"CONSOLE_SECRET_KEY"}  # the console's session key
    assert all(re.fullmatch(r"[1-9][0-9]*", version) for version in default.values())


def test_the_scheduler_never_calls_the_cloudfunctions_net_url() -> None:
    for path in TERRAFORM_DIR.glob("*.tf"):
        assert "cloudfunctions.net" not in path.read_text(), path.name
    audiences = locals_()["rollup_audiences"]
    assert all(".run.app" in audience for audience in audiences)
    assert any(audience.endswith("-*.a.run.app") for audience in audiences)
    env = one(function("rollup"), "service_config")["environment_variables"]
    assert "ROLLUP_AUDIENCE = local.rollup_audience" in re.sub(r"\s+", " ", env)
    assert locals_()["rollup_audience"] == '${join(",", local.rollup_audiences)}'


def _log_metric_policies() -> dict[str, dict[str, Any]]:
    return {
        name: policy
        for name, policy in resources("google_monitoring_alert_policy").items()
        if any(
            "google_logging_metric." in one(condition, "condition_threshold")["filter"]
            for condition in policy["conditions"]
        )
    }


def test_alerts_on_log_based_metrics_wait_until_monitoring_knows_them() -> None:
    sleep = resources("time_sleep")["log_metrics_propagation"]
    assert int(sleep["create_duration"].removesuffix("s")) >= 600
    metrics = set(resources("google_logging_metric"))
    watched = set(re.findall(r"google_logging_metric\.(\w+)\.id", sleep["triggers"]["metrics"]))
    assert watched == metrics
    policies = _log_metric_policies()
    assert set(policies) >= {"breaker_opened", "rollup_failed", "notification_failed"}
    for name, policy in policies.items():
        assert "${time_sleep.log_metrics_propagation}" in _depends_on(policy), name
    dashboard = resources("google_monitoring_dashboard")["main"]
    assert "${time_sleep.log_metrics_propagation}" in _depends_on(dashboard)


def _evaluate_dashboard_tiles() -> list[dict[str, Any]]:
    """local.dashboard_tiles evaluated by `terraform console` on stand-in charts."""
    terraform = shutil.which("terraform")
    assert terraform, "the terraform binary is needed (the CI image installs it)"
    text = (TERRAFORM_DIR / "dashboard.tf").read_text()
    start = text.index("locals {\n  dashboard_tiles")
    end = text.index("\n}\n", start) + 3
    charts = """locals {
  dashboard_charts = [
    { title = "a", filter = "f", aligner = "ALIGN_SUM", group_by = ["metric.label.x"] },
    { title = "b", filter = "f", aligner = "ALIGN_MAX", group_by = [] },
    { title = "c", filter = "f", aligner = "ALIGN_MAX", group_by = [] },
    { title = "d", filter = "f", aligner = "ALIGN_MAX", group_by = ["resource.label.y"] },
  ]
}
"""
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "main.tf").write_text(charts + text[start:end])
        result = subprocess.run(
            [terraform, "console"],
            input="jsonencode(local.dashboard_tiles)\n",
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    return json.loads(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_dashboard_holds_no_value_the_api_drops() -> None:
    """Zero positions and empty groupByFields are dropped by the API: a perpetual diff."""
    tiles = _evaluate_dashboard_tiles()
    assert [(tile.get("xPos"), tile.get("yPos")) for tile in tiles] == [
        (None, None),
        (6, None),
        (None, 4),
        (6, 4),
    ]

    def walk(node: Any) -> Iterator[Any]:
        yield node
        if isinstance(node, dict):
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for tile in tiles:
        for node in walk(tile):
            assert node not in ([], {}, 0, ""), tile
    aggregations = [
        tile["widget"]["xyChart"]["dataSets"][0]["timeSeriesQuery"]["timeSeriesFilter"][
            "aggregation"
        ]
        for tile in tiles
    ]
    assert [a.get("groupByFields") for a in aggregations] == [
        ["metric.label.x"],
        None,
        None,
        ["resource.label.y"],
    ]
    dashboard = resources("google_monitoring_dashboard")["main"]
    assert "local.dashboard_tiles" in dashboard["dashboard_json"]


def test_the_raw_mail_bucket_has_an_unlocked_retention_policy_of_the_legal_period() -> None:
    bucket = resources("google_storage_bucket")["raw_email"]
    policy = one(bucket, "retention_policy")
    assert policy["retention_period"] == "${var.raw_email_retention_days * 86400}"
    assert policy["is_locked"] is False, "locking is the operator's decision, never Terraform's"
    assert variables()["raw_email_retention_days"]["default"] * 86400 == 94_608_000


@pytest.mark.parametrize("grant", ["sql_client", "sql_instance_user"])
def test_cloud_sql_roles_are_limited_to_the_instance(grant: str) -> None:
    body = resources("google_project_iam_member")[grant]
    condition = one(body, "condition")
    assert condition["expression"] == "${local.sql_instance_condition.expression}"
    expression = locals_()["sql_instance_condition"]["expression"]
    assert 'resource.type == \\"sqladmin.googleapis.com/Instance\\"' in expression or (
        'resource.type == "sqladmin.googleapis.com/Instance"' in expression
    )
    assert "google_sql_database_instance.main.name" in expression


def test_the_deployer_is_neither_owner_nor_editor_and_its_roles_are_explained() -> None:
    roles = variables()["deployer_project_roles"]["default"]
    assert not {"roles/owner", "roles/editor"} & set(roles)
    docs = (REPO_ROOT / "docs" / "deploy.md").read_text()
    section = docs[docs.index("### What the deployer may do") :]
    end = section.find("\n### ", 5)
    section = section if end == -1 else section[:end]
    for role in roles:
        assert f"`{role}`" in section, f"{role} is not explained in docs/deploy.md"
    deployer = resources("google_project_iam_member")["deployer"]
    dynamic = one(deployer, "dynamic")["condition"]
    assert dynamic["for_each"] == (
        '${each.value == "roles/resourcemanager.projectIamAdmin" ? [1] : []}'
    )
    expression = one(dynamic, "content")["expression"]
    assert "modifiedGrantsByRole" in expression
    assert "hasOnly" in expression
    assert "local.deployer_grantable_roles" in expression


def test_the_webhook_is_public_by_default_and_works_under_domain_restricted_sharing() -> None:
    access = variables()["webhook_public_access"]
    assert access["default"] == "all_users"
    public = resources("google_cloud_run_v2_service_iam_member")["webhook_public"]
    assert public["count"] == '${var.webhook_public_access == "all_users" ? 1 : 0}'
    assert public["member"] == "allUsers"
    disabled = resources("terraform_data")["webhook_invoker_iam_check_disabled"]
    assert disabled["count"] == (
        '${var.webhook_public_access == "invoker_iam_check_disabled" ? 1 : 0}'
    )
    command = one(disabled, "provisioner")["local-exec"]["command"]
    assert "--no-invoker-iam-check" in command
    assert "google_cloudfunctions2_function.webhook.name" in command


def test_the_ci_image_has_a_repository() -> None:
    repository = resources("google_artifact_registry_repository")["ci"]
    assert repository["format"] == "DOCKER"
    assert "ci_image_repository" in outputs()


def test_every_resource_reference_names_a_declared_resource() -> None:
    """A reference to a resource that no file declares fails the apply's plan (a resource
    renamed or removed in one file while another still depends on it)."""
    texts = {path.name: path.read_text() for path in sorted(TERRAFORM_DIR.glob("*.tf"))}
    declared: set[str] = set()
    for text in texts.values():
        for kind, type_, name in re.findall(
            r'^(resource|data) "([a-z0-9_]+)" "([a-z0-9_]+)"', text, re.M
        ):
            declared.add(f"data.{type_}.{name}" if kind == "data" else f"{type_}.{name}")
    provider_prefix = re.compile(
        r"\b((?:data\.)?(?:google|google_beta|time|random|null|terraform)_[a-z0-9_]+\.[a-z0-9_]+)\b"
    )
    missing = sorted(
        {
            f"{file}: {ref}"
            for file, text in texts.items()
            for ref in provider_prefix.findall(re.sub(r"#[^\n]*", "", text))
            if ref not in declared and not ref.split(".")[-1].isdigit()
        }
    )
    assert declared and not missing, missing


# --- what a grant allows, evaluated by `terraform console` ---------------------------


def _local_block(path: Path, name: str) -> str:
    """The source of one `locals` entry (`name = ...` up to the next entry or the block end)."""
    text = path.read_text()
    match = re.search(rf"^  {name} = .*?(?=^  \w+ +=|^\}})", text, re.M | re.S)
    assert match, f"local.{name} not found in {path.name}"
    return match.group(0)


def _locals_of(path: Path, *names: str) -> str:
    return "locals {\n" + "".join(_local_block(path, name) for name in names) + "}\n"


def _console(source: str, expression: str, stand_ins: Mapping[str, str]) -> Any:
    """Evaluate `expression` over `source` (HCL), with references replaced by stand-in values."""
    terraform = shutil.which("terraform")
    assert terraform, "the terraform binary is needed (the CI image installs it)"
    for reference, value in stand_ins.items():
        source = source.replace(reference, value)
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "main.tf").write_text(source)
        result = subprocess.run(
            [terraform, "console"],
            input=f"jsonencode({expression})\n",
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    return json.loads(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_deployer_may_never_grant_project_iam_admin() -> None:
    """With projectIamAdmin among the grantable roles, the deployer could grant itself the role
    without the condition, then roles/owner."""
    roles = variables()["deployer_project_roles"]["default"]
    assert "roles/resourcemanager.projectIamAdmin" in roles
    iam = TERRAFORM_DIR / "iam.tf"
    source = _locals_of(iam, "build_roles", "deployer_grantable_roles")
    grantable = _console(
        source,
        "local.deployer_grantable_roles",
        {"var.deployer_project_roles": json.dumps(roles)},
    )
    assert "roles/resourcemanager.projectIamAdmin" not in grantable
    assert not {"roles/owner", "roles/editor"} & set(grantable)
    expected = (
        set(roles) | BUILD_ROLES | {"roles/cloudsql.client", "roles/cloudsql.instanceUser"}
    ) - {"roles/resourcemanager.projectIamAdmin"}
    assert set(grantable) == expected
    docs = (REPO_ROOT / "docs" / "deploy.md").read_text()
    assert "Changing the deployer's own roles is an Owner apply" in docs


def _build_conditions() -> dict[str, dict[str, str]]:
    iam = TERRAFORM_DIR / "iam.tf"
    source = _locals_of(
        iam, "build_roles", "build_buckets", "build_repositories", "build_role_conditions"
    )
    conditions: dict[str, dict[str, str]] = _console(
        source,
        "local.build_role_conditions",
        {
            "data.google_project.this.number": '"123456"',
            "google_storage_bucket.sources.name": '"acme-function-sources-production"',
            "var.project_id": '"acme"',
            "var.region": '"europe-west1"',
        },
    )
    return conditions


def test_the_build_account_may_write_only_function_sources_and_function_images() -> None:
    """Unbounded, objectAdmin reads every raw email and artifactregistry.writer overwrites the
    CI image."""
    conditions = _build_conditions()
    assert set(conditions) == {"roles/storage.objectAdmin", "roles/artifactregistry.writer"}
    assert conditions["roles/storage.objectAdmin"]["expression"] == " || ".join(
        [
            'resource.name == "projects/_/buckets/gcf-v2-sources-123456-europe-west1"',
            'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-123456-europe-west1/")',
            'resource.name == "projects/_/buckets/acme-function-sources-production"',
            'resource.name.startsWith("projects/_/buckets/acme-function-sources-production/")',
        ]
    )
    repositories = [
        "projects/acme/locations/europe-west1/repositories/gcf-artifacts",
        "projects/123456/locations/europe-west1/repositories/gcf-artifacts",
    ]
    assert conditions["roles/artifactregistry.writer"]["expression"] == " || ".join(
        f'resource.name == "{name}" || resource.name.startsWith("{name}/")' for name in repositories
    )
    for condition in conditions.values():
        assert condition["title"] and len(condition["title"]) <= 100
    build = resources("google_project_iam_member")["build"]
    dynamic = one(build, "dynamic")["condition"]
    assert "local.build_role_conditions" in dynamic["for_each"]
    assert one(dynamic, "content")["expression"] == "${condition.value.expression}"


def test_the_pinned_secret_versions_are_an_output_for_the_smoke_check() -> None:
    """infra/smoke.py signs with WEBHOOK_RAW_SECRET at the version the webhook reads."""
    assert outputs()["secret_versions"]["value"] == "${var.secret_versions}"
    assert "sensitive" not in outputs()["secret_versions"]
    smoke = (REPO_ROOT / "infra" / "smoke.py").read_text()
    assert '["secret_versions"]["value"]["WEBHOOK_RAW_SECRET"]' in smoke
    assert '"latest"' not in smoke


def _sentry_releases(dist: Path) -> dict[str, str]:
    source = _locals_of(
        TERRAFORM_DIR / "functions.tf", "archives", "archive_md5s", "sentry_releases"
    )
    releases: dict[str, str] = _console(
        source,
        "local.sentry_releases",
        {
            "keys(local.function_names)": json.dumps(list(FUNCTIONS)),
            "local.dist_dir": json.dumps(str(dist)),
        },
    )
    return releases


def test_a_commit_redeploys_only_the_functions_whose_archive_changed(tmp_path: Path) -> None:
    """Nothing in a function's configuration may change with the commit alone: the Sentry
    release is per function, from its archive's MD5."""
    import hashlib

    for name in FUNCTIONS:
        (tmp_path / f"{name}.zip").write_bytes(f"archive of {name}".encode())
    before = _sentry_releases(tmp_path)

    def md5(data: bytes) -> str:
        return hashlib.md5(data, usedforsecurity=False).hexdigest()

    assert before == {
        name: f"{name}@{md5(f'archive of {name}'.encode())[:12]}" for name in FUNCTIONS
    }
    (tmp_path / "processor.zip").write_bytes(b"a new processor")
    after = _sentry_releases(tmp_path)
    assert {name for name in FUNCTIONS if before[name] != after[name]} == {"processor"}

    assert "SENTRY_RELEASE" not in locals_()["common_env"]
    for name in FUNCTIONS:
        env = re.sub(r"\s+", " ", one(function(name), "service_config")["environment_variables"])
        assert f"SENTRY_RELEASE = local.sentry_releases.{name}" in env, name
    text = "".join(path.read_text() for path in TERRAFORM_DIR.glob("*.tf"))
    assert "var.release" not in text and 'variable "release"' not in text
    assert "release=" not in step_text_of_apply()


def step_text_of_apply() -> str:
    import yaml

    pipeline = yaml.safe_load((REPO_ROOT / "cloudbuild.yaml").read_text())
    (apply,) = [step for step in pipeline["steps"] if step.get("id") == "terraform-apply"]
    return " ".join(apply["args"])


def test_the_console_alerts_on_a_breaker_as_the_processor_does() -> None:
    """The console calls MongoDB and Claude through the shared breakers, and operators force
    them there: a breaker it opens mails the same alert, under the same thresholds."""
    console = one(function("console"), "service_config")
    processor = one(function("processor"), "service_config")
    shared = {
        "SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_FROM", "ADMIN_EMAIL",
        "CIRCUIT_BREAKER_ALERT_EMAIL", "CIRCUIT_BREAKER_FAIL_MAX", "CIRCUIT_BREAKER_RESET_TIMEOUT",
    }  # fmt: skip
    assert shared <= env_expression_keys(processor["environment_variables"])
    assert shared <= env_expression_keys(console["environment_variables"])
    assert "SMTP_PASSWORD" in secret_env_vars("console")
