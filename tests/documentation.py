"""Where the documentation is, for the tests that hold it to the code: README.md (what it is, the
two commands, the tour, where to read on) and the pages of docs/ by topic. The tests that read a
table or a paragraph name the page it lives on here, so a page that moves is changed in one place."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"

# The pages the drift tests read (each holds what its test reads; see the tests' docstrings).
API_PAGE = DOCS / "api.md"  # the error-code table, the task error codes, input files
ENGINES_PAGE = DOCS / "engines-and-quality.md"  # the codes a tenant model fails with
INTEGRATIONS_PAGE = DOCS / "integrations.md"  # drop receipts, events, the webhook verify sample

READ_ON = "## Where to read on"
_LINK = re.compile(r"\]\((docs/[^)#\s]+\.md)(?:#[^)\s]*)?\)")


def pages(root: Path = ROOT) -> list[Path]:
    """README.md, then the docs pages in the order its "Where to read on" section lists them, then
    any other page under docs/ (for example docs/pending-*.md or docs/pending-*/…, new pages not
    yet folded in) by path. Shell blocks run in this order, each page's in its own order."""
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    listed = text.split(READ_ON, 1)[1] if READ_ON in text else ""
    ordered = [readme]
    for relative in _LINK.findall(listed):
        path = root / relative
        if path.is_file() and path not in ordered:
            ordered.append(path)
    rest = sorted(path for path in (root / "docs").rglob("*.md") if path not in ordered)
    return ordered + rest


def all_text() -> str:
    """Every page, README first: for what the documentation as a whole must name."""
    return "\n".join(path.read_text(encoding="utf-8") for path in pages())


def section(path: Path, heading: str) -> str:
    """The text under a heading (`## Errors`), up to the next heading of any level (a `#` line
    inside a fenced block is code, not a heading)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if heading not in lines:
        raise LookupError(f"{path.name} has no heading {heading!r}")
    found, fenced = [], False
    for line in lines[lines.index(heading) + 1 :]:
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            break
        found.append(line)
    return "\n".join(found)


def paragraph(path: Path, opening: str) -> str:
    """The paragraph that starts with `opening`, up to the next blank line."""
    text = path.read_text(encoding="utf-8")
    start = text.index(opening)
    end = text.find("\n\n", start)
    return text[start : end if end != -1 else len(text)]
