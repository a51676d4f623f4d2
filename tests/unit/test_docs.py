"""The README is a short front door, and every relative link in the documentation resolves."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", ROOT / "ARCHITECTURE.md", *(ROOT / "docs").glob("*.md")])

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def _links(page: Path) -> list[str]:
    text = _FENCE.sub("", page.read_text())
    return [target for target in _LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = unicodedata.normalize("NFKC", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text())
    return {_slug(m) for m in re.findall(r"^#+ (.+)$", text, re.M)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in _links(page):
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists() or (
            anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved)
        ):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: broken links {broken}"


def test_the_readme_links_every_docs_page() -> None:
    linked = {target.partition("#")[0] for target in _links(ROOT / "README.md")}
    pages = {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")}
    assert pages <= linked, f"not in the README's map of docs/: {sorted(pages - linked)}"


def test_the_link_check_sees_a_broken_link(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n[ok](page.md#title) [gone](missing.md) [bad](page.md#nope)\n")
    assert _links(page) == ["page.md#title", "missing.md", "page.md#nope"]
    assert _anchors(page) == {"title"}


def test_readme_is_short() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_first_screen_has_exactly_the_two_commands() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:30])
    commands = re.findall(r"^make \w+", first_screen, re.M)
    assert commands == ["make run", "make test"]


def test_the_readmes_make_targets_exist_and_ci_calls_make_test() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"`make (\w+)", (ROOT / "README.md").read_text())):
        assert re.search(rf"^{target}:", makefile, re.M), f"make {target} is not in the Makefile"
    assert "make test" in (ROOT / ".ci" / "run").read_text()


# Comments, messages and docs state reasons; tickets, branches and who did what live in git.
_REFERENCE = re.compile("issue [0-9]|" + r"\(" + "issue|perf-(db|edge|processor)|branch " + "`")
_SCANNED = ("shared", "docs", "infra", "tests", "functions", "terraform")


def test_no_ticket_or_branch_references() -> None:
    files = [ROOT / "README.md", ROOT / "ARCHITECTURE.md", ROOT / "Makefile"]
    for folder in _SCANNED:
        files += [
            p
            for p in (ROOT / folder).rglob("*")
            if p.is_file()
            and p.suffix in {".py", ".md", ".tf", ".sh", ".txt", ".yaml", ".json", ".sql"}
        ]
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if _REFERENCE.search(line)
    ]
    assert not found, found
