"""cloudbuild.yaml is a valid pipeline in the agreed order.

Cloud Build itself is out of reach offline, so these tests check what it
would reject (a step without an image or arguments, an undeclared
substitution under MUST_MATCH, a shell script that does not parse) and what
the deployment relies on (tests before packaging, migrations before the new
code goes live, a smoke check last).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CLOUDBUILD = REPO_ROOT / "cloudbuild.yaml"

# The one command that writes terraform/.terraform.lock.hcl: checksums for Cloud Build
# (linux_amd64) and for every platform an operator runs terraform on.
PROVIDERS_LOCK = (
    "terraform -chdir=terraform providers lock -platform=linux_amd64 -platform=darwin_arm64"
    " -platform=darwin_amd64 -platform=windows_amd64"
)

_USER_SUBSTITUTION = re.compile(r"(?<!\$)\$(?:\{(_[A-Z0-9_]+)\}|(_[A-Z0-9_]+))")
_BUILTIN_SUBSTITUTION = re.compile(r"(?<!\$)\$\{?([A-Z][A-Z0-9_]*)\}?")
_BUILTINS = {
    "PROJECT_ID",
    "PROJECT_NUMBER",
    "BUILD_ID",
    "LOCATION",
    "TRIGGER_NAME",
    "COMMIT_SHA",
    "REVISION_ID",
    "SHORT_SHA",
    "REPO_NAME",
    "REPO_FULL_NAME",
    "BRANCH_NAME",
    "TAG_NAME",
    "REF_NAME",
    "TRIGGER_BUILD_CONFIG_PATH",
    "SERVICE_ACCOUNT_EMAIL",
    "SERVICE_ACCOUNT",
}


@cache
def config() -> dict[str, Any]:
    loaded = yaml.safe_load(CLOUDBUILD.read_text())
    assert isinstance(loaded, dict), "cloudbuild.yaml must be a mapping"
    return loaded


def steps() -> list[dict[str, Any]]:
    found = config().get("steps")
    assert isinstance(found, list), "cloudbuild.yaml needs a list of steps"
    assert found, "cloudbuild.yaml has no steps"
    return found


def step_text(step: dict[str, Any]) -> str:
    return " ".join([str(step.get("entrypoint", "")), *map(str, step.get("args", []))])


def index_of(fragment: str) -> int:
    matches = [i for i, step in enumerate(steps()) if fragment in step_text(step)]
    assert len(matches) == 1, f"expected one step running {fragment!r}, found {matches}"
    return matches[0]


def substitute(text: str) -> str:
    """What Cloud Build hands the step: substitutions applied, `$$` -> `$`."""
    values = {name: "x" for name in config()["substitutions"]} | dict.fromkeys(_BUILTINS, "x")

    def replace(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return _BUILTIN_SUBSTITUTION.sub(
        replace,
        _USER_SUBSTITUTION.sub(lambda m: values[m.group(1) or m.group(2)], text),
    ).replace("$$", "$")


def test_yaml_parses_into_steps() -> None:
    assert steps()


@pytest.mark.parametrize("index", range(len(steps())))
def test_every_step_names_an_image_and_its_arguments(index: int) -> None:
    step = steps()[index]
    assert isinstance(step.get("name"), str), f"step {index} names no image"
    assert step["name"].strip(), f"step {index} names no image"
    args = step.get("args")
    assert isinstance(args, list), f"step {index} ({step['name']}) has no args list"
    assert args, f"step {index} ({step['name']}) has no args"
    assert all(isinstance(arg, str) for arg in args), f"step {index}: args not strings"
    if "entrypoint" in step:
        assert isinstance(step["entrypoint"], str)
        assert step["entrypoint"].strip()
    assert set(step) <= {"id", "name", "entrypoint", "args", "env", "dir", "waitFor"}


def test_step_ids_are_unique() -> None:
    ids = [step.get("id") for step in steps()]
    assert all(ids), "every step needs an id (it names the step in the build log)"
    assert len(ids) == len(set(ids)), ids


def test_steps_run_in_the_deployment_order() -> None:
    order = [
        index_of("make test"),
        index_of("make package"),
        index_of("alembic upgrade head"),
        index_of("terraform apply"),
        index_of("infra/smoke.py"),
    ]
    assert order == sorted(order), order
    assert not any("waitFor" in step for step in steps()), "steps must run in sequence"


def test_the_archives_are_built_with_the_venvs_python() -> None:
    """The image's system python3 lacks the project's packages, so the packager could not map
    the functions' imports to distributions: `make package` runs it with .venv's Python (which
    the test step's `make test` created in the shared /workspace)."""
    package = step("package")
    assert (package.get("entrypoint"), package["args"]) == ("make", ["package"])
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(r"^package: \$\(STAMP\)\n\t@\$\(PY\) -m infra\.package$", makefile, re.M)
    assert re.search(r"^PY := \$\(VENV\)/bin/python$", makefile, re.M)


def test_substitutions_cover_project_region_and_environment() -> None:
    declared = config().get("substitutions", {})
    assert {"_PROJECT_ID", "_REGION", "_ENVIRONMENT"} <= set(declared)
    assert all(name.startswith("_") for name in declared)


def test_every_substitution_is_declared_and_used() -> None:
    text = CLOUDBUILD.read_text()
    body = text.split("\nsteps:", 1)[1]
    used = {a or b for a, b in _USER_SUBSTITUTION.findall(body)}
    declared = set(config()["substitutions"])
    for value in config()["substitutions"].values():
        used |= {a or b for a, b in _USER_SUBSTITUTION.findall(str(value))}
    assert used <= declared, f"undeclared: {sorted(used - declared)}"
    assert declared <= used, f"declared but unused: {sorted(declared - used)}"
    assert config()["options"]["substitutionOption"] == "MUST_MATCH"


def test_terraform_apply_gets_project_region_environment() -> None:
    apply = step_text(steps()[index_of("terraform apply")])
    for fragment in (
        "-auto-approve",
        'project_id=${_PROJECT_ID}"',
        'region=${_REGION}"',
        'environment=${_ENVIRONMENT}"',
        "-var-file=/workspace/terraform.tfvars",
    ):
        assert fragment in apply, fragment
    init = step_text(steps()[index_of("terraform init")])
    assert "backend-config" in init
    assert "-lockfile=readonly" in init


def test_migrations_use_the_cloud_sql_connector_settings() -> None:
    migrate = steps()[index_of("alembic upgrade head")]
    text = step_text(migrate)
    for name in ("INSTANCE_CONNECTION_NAME", "DB_NAME", "DB_USER"):
        assert f"export {name}=" in text, name
    assert "APP_ENV=production" in migrate.get("env", [])


def test_smoke_check_uses_the_deployed_outputs() -> None:
    smoke = steps()[index_of("infra/smoke.py")]
    assert "--terraform-outputs=/workspace/tf-outputs.json" in smoke["args"]
    assert any(arg.startswith("--project=") for arg in smoke["args"])


def test_scheduler_smoke_runs_the_outbox_sweep_and_checks_its_attempt() -> None:
    """Whether Cloud Scheduler's calls to the internal-only rollup function get through is
    checked on every deploy, last, by a real Scheduler attempt."""
    index = index_of("gcloud scheduler jobs run")
    assert index == len(steps()) - 1
    assert index > index_of("infra/smoke.py")
    script = substitute(steps()[index]["args"][-1])
    assert 'job="outbox-sweep-x"' in script
    assert 'gcloud scheduler jobs run "$job" --project="x" --location="x"' in script
    assert "describe lastAttemptTime" in script
    assert 'code="$(describe status.code)"' in script
    assert 'if [ -n "$code" ] && [ "$code" != "0" ]; then' in script
    assert script.count("exit 1") == 2
    # the job it runs is the one terraform names so
    scheduler = (REPO_ROOT / "terraform" / "scheduler.tf").read_text()
    assert 'name             = "outbox-sweep-${local.suffix}"' in scheduler
    deploy = (REPO_ROOT / "docs" / "deploy.md").read_text()
    assert "If the scheduler smoke check fails" in deploy
    assert ".run.app" in deploy


def test_referenced_repository_files_exist() -> None:
    assert (REPO_ROOT / "infra" / "smoke.py").is_file()
    assert (REPO_ROOT / "infra" / "package.py").is_file()
    for step in steps():
        if "dir" in step:
            assert (REPO_ROOT / step["dir"]).is_dir(), step["dir"]


@pytest.mark.parametrize("index", range(len(steps())))
def test_shell_scripts_parse(index: int) -> None:
    step = steps()[index]
    shell = step.get("entrypoint")
    if shell not in ("bash", "sh"):
        return
    assert step["args"][0].startswith("-c") or step["args"][0].startswith("-e")
    assert shutil.which(shell), f"{shell} is needed to check the step scripts"
    script = substitute(step["args"][-1])
    checked = subprocess.run(
        [shell, "-n", "-c", script], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, f"step {step.get('id')}: {checked.stderr}"


def test_no_secret_literal_in_the_pipeline() -> None:
    text = CLOUDBUILD.read_text()
    for pattern in (
        r"sk-ant-[A-Za-z0-9_-]{8,}",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
        r"(?i)(password|secret|api_key|token)\s*[:=]\s*['\"]?[A-Za-z0-9+/_-]{12,}",
    ):
        assert not re.search(pattern, text), pattern


# --- what a first run on a real project needs ----------------------------------------

CI_IMAGE = "${_CI_REPOSITORY}/inbound-email-ci:${_CI_IMAGE_TAG}"


def step(step_id: str) -> dict[str, Any]:
    found = [s for s in steps() if s.get("id") == step_id]
    assert len(found) == 1, step_id
    return found[0]


def test_tests_migrations_and_terraform_run_in_our_pinned_ci_image() -> None:
    for step_id in ("test", "package", "terraform-init", "migrate", "terraform-apply"):
        assert step(step_id)["name"] == CI_IMAGE, step_id
    assert step_text(step("test")) == "make test", "the same `make test` as on a machine"
    text = CLOUDBUILD.read_text()
    assert "google-cloud-cli:emulators" not in text
    assert "apt-get" not in text, "system programs come with the image, not per build"
    gcloud_image = config()["substitutions"]["_GCLOUD_IMAGE"]
    assert re.search(r":\d+\.\d+\.\d+-slim$", gcloud_image), gcloud_image


def test_the_ci_image_is_pulled_or_built_before_it_is_used() -> None:
    build = step("ci-image")
    script = substitute(build["args"][-1])
    assert 'image="x/inbound-email-ci:x"' in script
    assert 'if docker pull "$image"; then' in script
    assert 'docker build --build-arg CI_IMAGE_VERSION="x" -t "$image" infra/ci' in script
    assert 'docker push "$image"' in script
    ids = [s.get("id") for s in steps()]
    assert ids.index("ci-image") < ids.index("test")
    assert (REPO_ROOT / "infra" / "ci" / "Dockerfile").is_file()


def test_the_pipeline_stops_first_without_a_lock_file_or_a_variables_file() -> None:
    assert steps()[0].get("id") == "preflight"
    script = substitute(steps()[0]["args"][-1])
    assert "if [ ! -f terraform/.terraform.lock.hcl ]; then" in script
    assert PROVIDERS_LOCK in script
    assert 'tfvars="gs://x/tfvars/x.tfvars"' in script
    assert 'if ! gcloud storage cp "$tfvars" /workspace/terraform.tfvars --quiet; then' in script
    assert script.count("exit 1") == 2
    apply = substitute(step("terraform-apply")["args"][-1])
    assert apply.index("if [ ! -f .terraform.lock.hcl ]; then") < apply.index("terraform apply")


@pytest.mark.parametrize("missing", ["lock", "tfvars"])
def test_the_preflight_script_fails_with_a_clear_message(tmp_path: Path, missing: str) -> None:
    """Run the preflight script for real, with a stand-in gcloud."""
    workspace = tmp_path / "workspace"
    (workspace / "terraform").mkdir(parents=True)
    if missing != "lock":
        (workspace / "terraform" / ".terraform.lock.hcl").write_text("# lock\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(
        "#!/bin/sh\necho 'ERROR: (gcloud.storage.cp) URL matched no objects' >&2\nexit 1\n"
    )
    gcloud.chmod(0o755)
    script = substitute(steps()[0]["args"][-1]).replace("/workspace/", f"{workspace}/")
    done = subprocess.run(
        ["bash", "-ceu", script],
        cwd=workspace,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    expected = ".terraform.lock.hcl is not committed" if missing == "lock" else "no variables file"
    assert expected in done.stderr, done.stderr


def test_the_apply_reads_no_variables_file_from_the_repository() -> None:
    """environments/<env>.tfvars is not committed (only the example is)."""
    apply = step_text(step("terraform-apply"))
    assert "environments/" not in apply
    assert (REPO_ROOT / "terraform" / "environments" / "production.tfvars.example").is_file()


GRANT = ".venv/bin/python -m infra.grant_tables /workspace/tf-outputs.json"


def test_the_function_users_are_granted_after_the_migrations_and_after_the_apply() -> None:
    """After the migrations (the tables they created) and again after the apply (a user it
    created: the console's, the first time), from the outputs each step saved."""
    migrate, apply = index_of("alembic upgrade head"), index_of("terraform apply")
    after_apply = [i for i, step in enumerate(steps()) if GRANT in step_text(step) and i > apply]
    assert GRANT in step_text(steps()[migrate])
    assert step_text(steps()[migrate]).index("alembic upgrade head") < step_text(
        steps()[migrate]
    ).index(GRANT)
    assert after_apply and after_apply[0] < index_of("infra/smoke.py")
    assert "terraform output -json > /workspace/tf-outputs.json" in step_text(steps()[apply])
    assert "APP_ENV=production" in steps()[after_apply[0]].get("env", [])
