"""The report's items behind its numbers (issue 22): every example id links to one list of the items
the page names, each with its label and text (escaped, capped; personal data replaced unless the
task said redact_pii false), and each category's item count links to the list of its first items.

The texts come from results.example_texts (never from insights.json, which carries ids)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from reviewpulse.results import report_parts as html_parts
from reviewpulse.results.example_texts import CATEGORY_LISTED, MAX_TEXT_CHARS, ReportItems
from reviewpulse.results.insights import Insights


def item_anchor(item_id: str) -> str:
    """An HTML id for an item id, whatever characters it holds: hex keeps it unique and safe."""
    return "item-" + item_id.encode().hex()


def category_anchor(name: str) -> str:
    return "category-items-" + name.encode().hex()


def item_links(item_ids: Sequence[str]) -> str:
    return ", ".join(f'<a class="item-link" href="#{item_anchor(i)}">{escape(i)}</a>' for i in item_ids)


def category_count(name: str, count: int, items: ReportItems | None) -> str:
    """A category's item count, linked to the list of its first items when the page has one."""
    if items is None or not items.categories.get(name):
        return html_parts.num(count, count)
    return f'<td class="num" data-value="{count}"><a class="category-link" href="#{category_anchor(name)}">{count}</a></td>'


def examples_section(insights: Insights, items: ReportItems | None, *, redacted: bool) -> str:
    """Each item the themes and categories name, once, with what names it and its text."""
    named: dict[str, list[str]] = {}
    for theme in insights.themes:
        for item_id in theme.example_ids:
            named.setdefault(item_id, []).append(f"{theme.polarity} “{theme.phrase}”")
    for category in insights.categories:
        listed = items.categories.get(category.name, []) if items is not None else []
        for item_id in listed or category.example_ids:
            named.setdefault(item_id, []).append(f"category {category.name}")
    if not named:
        return ""
    texts = items.texts if items is not None else {}
    entries = []
    for item_id, where in named.items():
        found = texts.get(item_id)
        text = ""
        if found is not None:
            label = f' <span class="item-label">{escape(found.label or "not analysed")}</span>'
            text = f'{label}<blockquote class="item-text">{escape(found.text)}</blockquote>'
        entries.append(
            f'<li id="{item_anchor(item_id)}"><code>{escape(item_id)}</code> — {escape("; ".join(where))}{text}</li>'
        )
    blocks = [_category_block(c.name, c.items, items) for c in insights.categories]
    how = "personal data replaced by placeholders" if redacted else "as written (the task set redact_pii false)"
    return (
        '<h2>Example items</h2><p class="muted">The items the themes give as examples and each category\'s first '
        f"{CATEGORY_LISTED} by row, with their label and text ({how}; cut at {MAX_TEXT_CHARS} characters); "
        "every item's full text and label are in the task's results file under the same id.</p>"
        + "".join(b for b in blocks if b)
        + f'<ul class="examples" id="examples">{"".join(entries)}</ul>'
    )


def _category_block(name: str, count: int, items: ReportItems | None) -> str:
    listed = items.categories.get(name, []) if items is not None else []
    if not listed:
        return ""
    return (
        f'<p id="{category_anchor(name)}" class="category-items"><strong>{escape(name)}</strong>: '
        f"{'the first ' + str(len(listed)) + ' of ' if len(listed) < count else ''}{count} items — {item_links(listed)}</p>"
    )
