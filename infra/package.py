"""Build one deployable source archive per Cloud Function.

`python -m infra.package` (what `make package` runs) writes
`dist/webhook.zip`, `dist/processor.zip`, `dist/rollup.zip` and `dist/console.zip`. Each archive
holds what the Cloud Functions Python buildpack expects at its root:

- the function's own files from `functions/<name>/` (`main.py` first of all),
- the whole `shared/` package,
- `requirements.txt`.

Archives are deterministic: entries are sorted, timestamps and permissions
are fixed, so the same content always gives the same bytes and the same MD5.
Terraform names the uploaded object after that MD5, so only a real change
redeploys a function.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# function name -> entry point; the names and entry points Terraform deploys.
FUNCTIONS: dict[str, str] = {
    "webhook": "webhook",
    "processor": "process_email",
    "rollup": "rollup",
    "console": "console",
}

_FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # earliest date a zip entry can carry
_FILE_MODE = 0o644 << 16
_EXCLUDED_DIRS = {"__pycache__"}
_EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


class PackagingError(Exception):
    """The repository lacks something a deployable archive needs."""


def _is_packaged(path: Path, root: Path) -> bool:
    """Skip caches, build metadata and hidden files (a stray `.env` never ships)."""
    relative = path.relative_to(root)
    if any(part.startswith(".") for part in relative.parts):
        return False
    if any(part in _EXCLUDED_DIRS or part.endswith(".egg-info") for part in relative.parts[:-1]):
        return False
    return path.suffix not in _EXCLUDED_SUFFIXES


def _files_under(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and _is_packaged(path, root):
            yield path


def archive_entries(name: str, repo_root: Path = REPO_ROOT) -> dict[str, Path]:
    """Map each archive member name to the file it is read from."""
    function_dir = repo_root / "functions" / name
    shared_dir = repo_root / "shared"
    requirements = repo_root / "requirements.txt"
    for required in (
        function_dir / "main.py",
        shared_dir / "__init__.py",
        requirements,
    ):
        if not required.is_file():
            raise PackagingError(f"cannot package {name!r}: {required} is missing")

    entries = {
        path.relative_to(function_dir).as_posix(): path for path in _files_under(function_dir)
    }
    clashes = [
        member for member in entries if member.startswith("shared/") or member == "requirements.txt"
    ]
    if clashes:
        msg = f"functions/{name}/{clashes[0]} would shadow the repository's copy"
        raise PackagingError(msg)
    for path in _files_under(shared_dir):
        entries[path.relative_to(repo_root).as_posix()] = path
    entries["requirements.txt"] = requirements
    return dict(sorted(entries.items()))


def build_archive(name: str, output_dir: Path, repo_root: Path = REPO_ROOT) -> Path:
    """Write `<output_dir>/<name>.zip` deterministically and return its path."""
    entries = archive_entries(name, repo_root)
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / f"{name}.zip"
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(
        partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9
    ) as archive:
        for member, source in entries.items():
            info = zipfile.ZipInfo(member, date_time=_FIXED_DATE_TIME)
            info.external_attr = _FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode bits above are honoured
            archive.writestr(info, source.read_bytes(), compresslevel=9)
    partial.replace(target)
    return target


def build_all(output_dir: Path, repo_root: Path = REPO_ROOT) -> list[Path]:
    """Build every function's archive into `output_dir`."""
    return [build_archive(name, output_dir, repo_root) for name in FUNCTIONS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build dist/<function>.zip for each Cloud Function."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "dist",
        help="output directory (default: dist/)",
    )
    args = parser.parse_args(argv)
    try:
        archives = build_all(args.out)
    except PackagingError as error:
        print(f"package: {error}", file=sys.stderr)
        return 1
    for archive in archives:
        print(f"package: wrote {archive} ({archive.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
