"""The texts behind the ids the report names (issue 22: "read the 12 reviews behind a number"):
each category's first items by row, and each theme's example items.

They go to the report only, never into insights.json (which carries ids) nor into a log. A
category's items are known as they arrive and kept at once (at most CATEGORY_LISTED per category);
a theme's examples are chosen only at the end, so the positive and negative items' capped texts are
spooled to an unnamed temporary file (as themes.py spools their phrases) and the chosen ones read
back once. With options.redact_pii (the default) personal data is replaced by placeholders in
every text kept, as it is before any text reaches an LLM, so that a report passed around carries
none; with redact_pii false the texts are as written.
"""

from __future__ import annotations

from pydantic import BaseModel

from reviewpulse.privacy.redactor import redact
from reviewpulse.results.periods import ItemSpool

CATEGORY_LISTED = 20  # per category, the first items by row whose texts the report lists
MAX_TEXT_CHARS = 500  # a longer text is cut at a word and marked


class ExampleText(BaseModel):
    id: str
    label: str | None
    text: str
    cut: bool


def capped(text: str, limit: int = MAX_TEXT_CHARS) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip() + " …", True


class ReportItems(BaseModel):
    """What the report lists behind its numbers: texts by id, and each category's first ids by row."""

    texts: dict[str, ExampleText] = {}
    categories: dict[str, list[str]] = {}


class ExampleTexts:
    """Fed each item in the finalizer's pass; gives the texts of the ids asked for at the end."""

    def __init__(self, categories: list[str], *, themes: bool, redact_pii: bool) -> None:
        self.listed: dict[str, list[str]] = {name: [] for name in categories}
        self._kept: dict[str, ExampleText] = {}
        self._spool = ItemSpool() if themes else None
        self._redact = redact_pii

    def add(self, item_id: str, label: str | None, text: str | None, categories: list[str]) -> None:
        if not text:
            return
        for name in categories:
            listed = self.listed[name]
            if len(listed) < CATEGORY_LISTED:
                listed.append(item_id)
                if item_id not in self._kept:
                    self._kept[item_id] = self._example(item_id, label, text)
        if self._spool is not None and label in ("positive", "negative"):
            # A little past the cap, so that redaction sees whole what the cap would cut.
            self._spool.add((item_id, label, text[: MAX_TEXT_CHARS + 200]))

    def finish(self, wanted: set[str]) -> ReportItems:
        """The kept texts, and those of `wanted` ids (themes' examples) read from the spool."""
        found = dict(self._kept)
        missing = wanted - set(found)
        if missing and self._spool is not None:
            for item_id, label, text in self._spool.records():
                if item_id in missing:
                    found[item_id] = self._example(item_id, label, text)
                    missing.discard(item_id)
                    if not missing:
                        break
        return ReportItems(texts=found, categories=self.listed)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()

    def _example(self, item_id: str, label: str | None, text: str) -> ExampleText:
        shown, cut = capped(redact(text).text if self._redact else text)
        return ExampleText(id=item_id, label=label, text=shown, cut=cut)
