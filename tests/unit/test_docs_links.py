"""Every relative link in README.md and docs/ leads somewhere: the file (or folder) exists and, when
the link names an `#anchor`, the target page has a heading with that anchor as GitHub makes it. And
the pages are read in the README's order, pending pages last, so the README test runs them all."""

from __future__ import annotations

import re
from pathlib import Path

from tests.documentation import ROOT, pages

FENCE = re.compile(r"^ {0,3}```.*?^ {0,3}```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def prose(text: str) -> str:
    """The text without fenced blocks, whose contents are code, not links or headings."""
    return FENCE.sub("", text)


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text (code spans' content kept, link targets
    dropped), lower case, punctuation but `-` and `_` removed, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in HEADING.findall(prose(path.read_text(encoding="utf-8"))):
        base = anchor(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(root: Path) -> list[str]:
    broken = []
    for page in pages(root):
        text = CODE_SPAN.sub("", prose(page.read_text(encoding="utf-8")))
        for target in LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: — not ours to check
                continue
            file_part, _, fragment = target.partition("#")
            destination = (page.parent / file_part).resolve() if file_part else page
            where = f"{page.relative_to(root)}: {target}"
            if not destination.exists():
                broken.append(f"{where} (no such file)")
            elif fragment and (destination.suffix != ".md" or fragment not in anchors(destination)):
                broken.append(f"{where} (no such anchor)")
    return broken


def test_every_relative_link_and_anchor_in_the_readme_and_docs_resolves():
    # Given the README and every docs page, When their links are followed, Then each one lands
    assert broken_links(ROOT) == []
    # (and there are links to follow: the README leads to the docs)
    assert any("docs/" in target for target in LINK.findall(prose((ROOT / "README.md").read_text())))


def test_a_missing_page_or_anchor_is_reported(tmp_path):
    # Given a README that links to a page that is not there, and to a heading a page does not have
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "api.md").write_text("# API\n\n## Errors\n\n```bash\n# not a heading\n```\n")
    (tmp_path / "README.md").write_text(
        "## Where to read on\n\n[api](docs/api.md#errors) [gone](docs/gone.md) "
        "[bad](docs/api.md#not-a-heading) [code](docs/api.md#not-a-heading-either) "
        "`[span](docs/none.md)` [web](https://example.com/x.md)\n"
    )
    # When the links are checked
    broken = broken_links(tmp_path)
    # Then the missing page and both missing anchors are named, and nothing else
    assert broken == [
        "README.md: docs/gone.md (no such file)",
        "README.md: docs/api.md#not-a-heading (no such anchor)",
        "README.md: docs/api.md#not-a-heading-either (no such anchor)",
    ]


def test_pages_are_read_in_the_readmes_order_then_any_other_page_by_path(tmp_path):
    # Given a README that lists two pages out of alphabetical order, and pages it does not list yet
    docs = tmp_path / "docs"
    (docs / "pending-wip").mkdir(parents=True)
    for name in ("zeta.md", "alpha.md", "pending-beta.md", "pending-wip/gamma.md"):
        (docs / name).write_text(f"# {name}\n")
    (tmp_path / "README.md").write_text(
        "[alpha, from the tour](docs/alpha.md)\n\n## Where to read on\n\n- [z](docs/zeta.md)\n- [a](docs/alpha.md#x)\n"
    )
    # When the pages are listed
    listed = [path.relative_to(tmp_path).as_posix() for path in pages(tmp_path)]
    # Then the README comes first, then its reading list in its order, then the rest by path
    assert listed == ["README.md", "docs/zeta.md", "docs/alpha.md", "docs/pending-beta.md", "docs/pending-wip/gamma.md"]
