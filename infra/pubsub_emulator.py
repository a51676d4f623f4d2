"""Where Google's Pub/Sub emulator is, and the command that starts it.

The emulator is a jar shipped with the Google Cloud CLI (component or Debian package
``google-cloud-cli-pubsub-emulator``) under ``<sdk root>/platform/pubsub-emulator/lib/``, and
the SDK root differs between installations: ``/usr/lib/google-cloud-sdk`` for the Debian
package, ``/google-cloud-sdk`` in Google's ``cloud-sdk`` images, ``~/google-cloud-sdk`` for the
installer. In order: ``PUBSUB_EMULATOR_JAR`` (a path to the jar), the SDK root ``gcloud info``
reports, the usual roots. Standard library only: ``infra/check_system.sh`` runs this file with
the system Python before the virtualenv exists (``python3 infra/pubsub_emulator.py`` prints the
jar's path, or explains what is missing and exits 1).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

JAR_GLOB = "platform/pubsub-emulator/lib/cloud-pubsub-emulator-*.jar"
DEFAULT_SDK_ROOTS = (
    Path("/usr/lib/google-cloud-sdk"),
    Path("/google-cloud-sdk"),
    Path.home() / "google-cloud-sdk",
)
GCLOUD_INFO_TIMEOUT_SECONDS = 30


class EmulatorNotFound(RuntimeError):
    """No Pub/Sub emulator jar where it was looked for."""


@functools.cache
def gcloud_sdk_root() -> Path | None:
    """The SDK root of the ``gcloud`` on PATH, or ``None`` (no gcloud, or it failed)."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        return None
    try:
        done = subprocess.run(
            [gcloud, "info", "--format=value(installation.sdk_root)"],
            capture_output=True,
            text=True,
            timeout=GCLOUD_INFO_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    root = done.stdout.strip()
    return Path(root) if done.returncode == 0 and root else None


def _jar_under(root: Path) -> Path | None:
    jars = sorted(root.glob(JAR_GLOB))
    return jars[-1] if jars else None


def find_emulator_jar(
    environ: Mapping[str, str] | None = None,
    sdk_root: Path | None = None,
    default_roots: tuple[Path, ...] = DEFAULT_SDK_ROOTS,
) -> Path:
    """The emulator jar: ``PUBSUB_EMULATOR_JAR``, else under ``sdk_root`` (``gcloud info``
    when not given), else under the usual SDK roots; :class:`EmulatorNotFound` otherwise."""
    env = os.environ if environ is None else environ
    configured = env.get("PUBSUB_EMULATOR_JAR", "").strip()
    if configured:
        jar = Path(configured)
        if not jar.is_file():
            raise EmulatorNotFound(f"PUBSUB_EMULATOR_JAR={configured} is not a file")
        return jar
    roots = [sdk_root if sdk_root is not None else gcloud_sdk_root(), *default_roots]
    for root in roots:
        if root is not None:
            jar = _jar_under(root)
            if jar is not None:
                return jar
    searched = ", ".join(str(root / JAR_GLOB) for root in roots if root is not None)
    raise EmulatorNotFound(
        "Google's Pub/Sub emulator not found (gcloud component pubsub-emulator, Debian "
        f"google-cloud-cli-pubsub-emulator); looked for {searched}; "
        "set PUBSUB_EMULATOR_JAR to its jar"
    )


def emulator_command(host: str, port: int, jar: Path | None = None) -> list[str]:
    """The command that runs the emulator on ``host:port`` (what its bin script runs)."""
    java = shutil.which("java") or "java"
    return [java, "-jar", str(jar or find_emulator_jar()), f"--host={host}", f"--port={port}"]


def main() -> int:
    try:
        print(find_emulator_jar())
    except EmulatorNotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
