"""Assemble README.md from docs/readme/00-overview.md and the section files in docs/.

The sections are written beside the code they describe (docs/<area>.md) and kept in one
README so that a reader finds everything on one page: ``python -m infra.build_readme``.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = (
    "intake.md",
    "processor.md",
    "extraction.md",
    "breakers.md",
    "observability.md",
    "deploy.md",
    "bench.md",
    "reliability.md",
)


def _as_section(text: str) -> str:
    """Every section starts at level 2 ("## …"); deeper headings keep their relative depth."""
    lines = text.strip().splitlines()
    headings: list[re.Match[str] | None] = []
    fenced = False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        headings.append(None if fenced else re.match(r"^(#+) ", line))
    levels = [len(m.group(1)) for m in headings if m]
    shift = 2 - min(levels) if levels else 0
    out = []
    for line, match in zip(lines, headings, strict=True):
        out.append(
            "#" * (len(match.group(1)) + shift) + line[len(match.group(1)) :] if match else line
        )
    return "\n".join(out)


def build() -> str:
    parts = [(ROOT / "docs" / "readme" / "00-overview.md").read_text().strip()]
    parts += [_as_section((ROOT / "docs" / name).read_text()) for name in SECTIONS]
    return "\n\n".join(parts) + "\n"


def main() -> None:
    (ROOT / "README.md").write_text(build())


if __name__ == "__main__":
    main()
