"""Each function's `requirements.txt`: the locked packages its code can import, with hashes.

A function's imports are found by reading its source, not by running it: starting from
`functions/<name>/main.py`, every `import` (also those inside functions, which the code uses to
keep cold starts cheap) is followed through the `shared` modules it reaches. The third-party
modules met on the way are mapped to the installed distributions that provide them, and those
are closed over `requirements.lock` (its `# via` lines name each package's dependants), so the
archive installs exactly the versions and files the tests ran, and nothing the function never
imports (the webhook gets no anthropic, pymongo or pypdf).
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCK = REPO_ROOT / "requirements.lock"
OWN_PACKAGE = "shared"
# The platform serves every function through functions-framework, whatever the code imports.
ALWAYS = frozenset({"functions-framework"})


def normalise(name: str) -> str:
    """A distribution's canonical name (PEP 503): lower case, runs of `-_.` as one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Locked:
    name: str
    text: str  # the lock's lines for this package: pin and hashes, without comments
    dependants: frozenset[str]  # canonical names from its `# via` lines ("" = a direct one)


def _dependants(block: str) -> Iterator[str]:
    """The names in an entry's `# via` comment, one or several lines ("" for `-r file`)."""
    for line in block.splitlines():
        text = line.strip()
        if not text.startswith("#"):
            continue
        name = text.lstrip("#").strip().removeprefix("via").strip()
        if name:
            yield "" if name.startswith("-r") else normalise(name.split()[0])


def read_lock(path: Path = LOCK) -> dict[str, Locked]:
    """The lock's entries by canonical name."""
    entries: dict[str, Locked] = {}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", path.read_text())
    for block in blocks:
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9_.\-]*)==", block)
        if not match:
            continue
        pin = [line for line in block.splitlines() if not line.lstrip().startswith("#")]
        dependants = frozenset(_dependants(block))
        entries[normalise(match.group(1))] = Locked(match.group(1), "\n".join(pin), dependants)
    return entries


def _module_file(module: str, root: Path) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Dotted names a module imports (for `from a import b`: both `a` and `a.b`)."""
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _is_type_checking(node)
        for statement in node.body
        for child in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                keep = len(parts) - node.level + (1 if is_package else 0)
                base = ".".join(parts[:keep] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def third_party_imports(entry: Path, root: Path = REPO_ROOT) -> set[str]:
    """Every non-stdlib, non-`shared` module reachable from `entry` through `shared`."""
    found: set[str] = set()
    seen: set[str] = set()
    pending: list[tuple[Path, str, bool]] = [(entry, "__main__", False)]
    while pending:
        path, module, is_package = pending.pop()
        tree = ast.parse(path.read_text(), filename=str(path))
        for name in _imports(tree, module, is_package):
            top = name.partition(".")[0]
            if not top or top in sys.stdlib_module_names or top == "__future__":
                continue
            if top != OWN_PACKAGE:
                found.add(name)
                continue
            if name in seen:
                continue
            seen.add(name)
            source = _module_file(name, root)
            if source is not None:
                pending.append((source, name, source.name == "__init__.py"))
    return found


@functools.cache
def _module_owners() -> dict[str, str]:
    """Dotted module name -> canonical name of the installed distribution that ships it."""
    owners: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[-1].endswith(".pyc") or ".." in parts:
                continue
            if file.suffix == ".py" or file.suffix in {".so", ".pyd"}:
                stem = parts[-1].split(".")[0]
                dotted = ".".join([*parts[:-1], stem] if stem != "__init__" else parts[:-1])
                owners.setdefault(dotted, normalise(dist.metadata["Name"]))
    return owners


def distributions_for(modules: Iterable[str], owners: Mapping[str, str] | None = None) -> set[str]:
    """The distributions providing `modules` (the longest dotted prefix any of them ships).

    A namespace package (`google.cloud`) is provided by no one distribution but is known by the
    modules under it. A module no installed distribution provides is a `LookupError`, never a
    silent omission: run by an interpreter without the project's packages (a system `python3`
    instead of the venv's), the archives would otherwise lack their real dependencies and fail
    only when the platform imports them.
    """
    owners = _module_owners() if owners is None else owners
    found: set[str] = set()
    unknown: set[str] = set()
    for module in modules:
        parts = module.split(".")
        for end in range(len(parts), 0, -1):
            owner = owners.get(".".join(parts[:end]))
            if owner is not None:
                found.add(owner)
                break
        else:
            prefix = module + "."
            if not any(name.startswith(prefix) for name in owners):
                unknown.add(module)
    if unknown:
        # `sentry_sdk` rather than each of its submodules as well
        shortest = {m for m in unknown if not any(m.startswith(f"{o}.") for o in unknown)}
        raise LookupError(
            f"no installed distribution provides {', '.join(sorted(shortest))}"
            f" (imported by the function's code); run with the project's virtualenv"
            f" (`make package`, {sys.executable} lacks them) or add the package to requirements.txt"
        )
    return found


def closure(roots: Iterable[str], lock: dict[str, Locked]) -> set[str]:
    """`roots` and every locked package one of them depends on, transitively."""
    chosen = {normalise(root) for root in roots}
    missing = sorted(chosen - set(lock))
    if missing:
        raise LookupError(f"imported but not in {LOCK.name}: {', '.join(missing)}")
    changed = True
    while changed:
        changed = False
        for name, entry in lock.items():
            if name not in chosen and entry.dependants & chosen:
                chosen.add(name)
                changed = True
    return chosen


def requirements_for(function: str, root: Path = REPO_ROOT, lock_path: Path = LOCK) -> str:
    """The `requirements.txt` of one function's deploy archive."""
    lock = read_lock(lock_path)
    imported = distributions_for(
        third_party_imports(root / "functions" / function / "main.py", root)
    )
    chosen = closure(ALWAYS | imported, lock)
    header = (
        f"# {function}: the packages of {lock_path.name} that its code imports, with their\n"
        "# dependencies (written by infra/package.py; install with --require-hashes).\n"
    )
    return header + "".join(f"{lock[name].text}\n" for name in sorted(chosen))
