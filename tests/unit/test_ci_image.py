"""infra/ci/Dockerfile, the pipeline's CI image, checked by parsing it.

No Docker engine here: these tests hold the image to what `make test` needs (the
system programs of infra/check_system.sh) and to pinned versions of everything."""

from __future__ import annotations

import re
import sys
import tomllib
from functools import cache
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "infra" / "ci" / "Dockerfile"


@cache
def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def args() -> dict[str, str]:
    found = {}
    for instruction, rest in instructions():
        if instruction == "ARG" and "=" in rest:
            name, value = rest.split("=", 1)
            found[name] = value
    return found


def expand(text: str) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: args().get(m.group(1), m.group(0)), text)


def stages() -> list[str]:
    return [
        expand(rest.split()[0]) for instruction, rest in instructions() if instruction == "FROM"
    ]


def apt_packages() -> list[str]:
    packages = []
    for instruction, rest in instructions():
        if instruction != "RUN":
            continue
        for command in re.findall(r"apt-get install ([^&]+)", rest):
            packages += [word.strip('"') for word in command.split() if not word.startswith("-")]
    return packages


def test_every_image_is_pinned_to_an_exact_tag() -> None:
    assert stages(), "no FROM"
    for image in stages():
        assert "latest" not in image, image
        name, _, tag = image.partition("@")[0].rpartition(":")
        assert name and re.fullmatch(r"\d+\.\d+\.\d+(-[a-z0-9-]+)?", tag), image


def test_python_311_on_debian_12_as_pyproject_requires() -> None:
    base = stages()[-1]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base), base
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
        "requires-python"
    ]
    assert requires == ">=3.11,<3.13"
    # the same interpreter minor version as the one running these tests
    assert base.startswith(f"python:{sys.version_info.major}.{sys.version_info.minor}.")


def test_every_apt_package_is_pinned_from_a_fixed_debian_snapshot() -> None:
    packages = apt_packages()
    assert packages
    for package in packages:
        _, _, version = package.partition("=")
        assert version and "$" not in expand(version), package
    text = DOCKERFILE.read_text()
    assert "snapshot.debian.org/archive/debian/${DEBIAN_SNAPSHOT} bookworm main" in text
    assert "snapshot.debian.org/archive/debian-security/${DEBIAN_SNAPSHOT}" in text
    assert re.fullmatch(r"\d{8}T\d{6}Z", args()["DEBIAN_SNAPSHOT"])


def test_the_image_has_what_make_test_needs() -> None:
    names = {package.partition("=")[0] for package in apt_packages()}
    assert {
        "postgresql-15",
        "make",
        "google-cloud-cli",
        "google-cloud-cli-pubsub-emulator",
    } <= names
    # the emulator runs on a Java runtime; a JDK would only add a compiler
    assert "openjdk-17-jre-headless" in names
    assert not any(name.startswith("openjdk-17-jdk") for name in names), sorted(names)
    env = " ".join(rest for instruction, rest in instructions() if instruction == "ENV")
    assert "PG_BIN=/usr/lib/postgresql/15/bin" in env
    assert args()["GOOGLE_CLOUD_CLI_VERSION"].startswith("528.")


def test_terraform_comes_from_hashicorps_image_at_a_pinned_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", args()["TERRAFORM_VERSION"])
    assert stages()[0] == f"hashicorp/terraform:{args()['TERRAFORM_VERSION']}"
    copies = [rest for instruction, rest in instructions() if instruction == "COPY"]
    assert "--from=terraform /bin/terraform /usr/local/bin/terraform" in copies
    assert args()["TERRAFORM_VERSION"].startswith("1.11.")


def test_the_pipeline_asks_for_the_version_the_dockerfile_builds() -> None:
    pipeline = yaml.safe_load((REPO_ROOT / "cloudbuild.yaml").read_text())
    assert pipeline["substitutions"]["_CI_IMAGE_TAG"] == args()["CI_IMAGE_VERSION"]


# The candidate versions of Debian 12 with bookworm-security (`apt-cache madison`): the
# security suite is among the snapshot's sources, so apt refuses an older point-release pin
# (openjdk-17-jre-headless 17.0.19 "but 17.0.21.1 is to be installed") as soon as a
# dependency resolves to the newer version.
SECURITY_VERSIONS = {
    "openjdk-17-jre-headless": "17.0.21.1+2-1~deb12u1",
    "postgresql-15": "15.20-0+deb12u1",
    "ca-certificates": "20250419~deb12u2",
}


def test_packages_patched_by_bookworm_security_are_pinned_at_the_security_version() -> None:
    pinned = {
        name: expand(version)
        for name, _, version in (package.partition("=") for package in apt_packages())
    }
    assert {name: pinned.get(name) for name in SECURITY_VERSIONS} == SECURITY_VERSIONS
    assert "bookworm-security main" in DOCKERFILE.read_text()
