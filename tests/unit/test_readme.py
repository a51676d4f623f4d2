"""The README is the newcomer's first screen: two commands, and in step with docs/."""

from __future__ import annotations

import re

from infra.build_readme import ROOT, build


def test_readme_is_assembled_from_the_docs() -> None:
    assert (ROOT / "README.md").read_text() == build(), "run: python -m infra.build_readme"


def test_first_screen_has_exactly_the_two_commands() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:30])
    commands = re.findall(r"^make \w+", first_screen, re.M)
    assert commands == ["make run", "make test"]


def test_the_two_commands_exist_in_the_makefile_and_ci_calls_make_test() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.M)
    assert re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
