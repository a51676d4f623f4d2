"""docs/deploy.md agrees with the configuration it describes, and its first steps run in an
order that works on a new project."""

from __future__ import annotations

import re
from pathlib import Path

from tests.unit.test_cloudbuild import PROVIDERS_LOCK
from tests.unit.test_terraform import locals_, variables

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = (REPO_ROOT / "docs" / "deploy.md").read_text()


def _section(start: str, end: str) -> str:
    return DEPLOY[DEPLOY.index(start) : DEPLOY.index(end, DEPLOY.index(start))]


def test_the_project_is_set_before_the_adc_login_and_becomes_its_quota_project() -> None:
    """The provider's Service Usage calls with user ADC need a quota project."""
    step = _section("**1. Shell settings and login.**", "**2. ")
    commands = [line.strip() for line in step.splitlines() if line.startswith("gcloud ")]
    assert commands == [
        "gcloud auth login",
        'gcloud config set project "$PROJECT"',
        "gcloud auth application-default login",
        'gcloud auth application-default set-quota-project "$PROJECT"',
    ]


def test_domain_restricted_sharing_is_checked_under_both_constraints() -> None:
    step = re.sub(r"\s*\\\n\s*", " ", _section("**2. Is the webhook", "**3. "))
    assert (
        "gcloud resource-manager org-policies describe iam.allowedPolicyMemberDomains"
        ' --project="$PROJECT" --effective'
    ) in step
    assert (
        'gcloud org-policies describe iam.managed.allowedPolicyMembers --project="$PROJECT"'
        " --effective"
    ) in step


def test_every_providers_lock_command_covers_the_operators_platforms() -> None:
    texts = {
        "docs/deploy.md": DEPLOY,
        "cloudbuild.yaml": (REPO_ROOT / "cloudbuild.yaml").read_text(),
    }
    for name, text in texts.items():
        commands = re.findall(r"terraform -chdir=terraform providers lock[^\n\"]*", text)
        assert commands, name
        assert all(command.strip() == PROVIDERS_LOCK for command in commands), (name, commands)


def _variable_default(name: str) -> int:
    return int(variables()[name]["default"])


def test_the_connection_sizing_is_the_arithmetic_of_functions_tf() -> None:
    local = locals_()
    instances = _variable_default("processor_max_instances")
    pool = _variable_default("processor_concurrency")
    overflow, breaker = int(local["processor_max_overflow"]), int(local["breaker_pool_size"])
    rollup = int(local["rollup_max_instances"]) * (
        int(local["rollup_pool_size"]) + int(local["rollup_max_overflow"])
    )
    processor = instances * (pool + overflow + breaker)
    console = int(local["console_max_instances"]) * (
        int(local["console_pool_size"]) + int(local["console_max_overflow"]) + breaker
    )
    total = (
        2 * (processor + rollup + console)
        + int(local["migration_connections"])
        + int(local["ops_connections"])
        + int(local["reserved_connections"])
    )
    assert total == 116
    sizing = _section("**Sizing.**", "### ")
    assert f"= {instances} × ({pool} + {overflow} + {breaker}) | {processor} |" in sizing
    assert f"| {rollup} |" in sizing
    assert f"| {console} |" in sizing
    assert f"| × 2 during a rollout | {2 * (processor + rollup + console)} |" in sizing
    assert f"= {_variable_default('sql_max_connections')} | {total} |" in sizing
    comment = (REPO_ROOT / "terraform" / "functions.tf").read_text()
    assert f"= {total} < {_variable_default('sql_max_connections')}" in comment
