"""Categories a customer defines (options.categories): a name and the words and phrases that put an
item in it. An item is in every category one of whose terms its text holds as whole words, case
ignored (a phrase's words may be separated by any white space); it may be in several or none.

A regular expression per category, not a library: the matching wanted is exactly "these words, as
words", which one alternation with word boundaries says and runs in one scan of the text."""

from __future__ import annotations

import re


class CategoryMatcher:
    def __init__(self, categories: dict[str, list[str]]) -> None:
        self.names = list(categories)
        self._patterns = [_pattern(terms) for terms in categories.values()]

    def of(self, text: str | None) -> list[str]:
        """The names of the categories `text` is in, in the options' order."""
        if not text:
            return []
        return [name for name, pattern in zip(self.names, self._patterns, strict=True) if pattern.search(text)]


def _pattern(terms: list[str]) -> re.Pattern[str]:
    # Longest first, so that "customer service" is tried before "customer" (either way a match).
    words = sorted({r"\s+".join(map(re.escape, term.split())) for term in terms if term.split()}, key=len, reverse=True)
    if not words:
        return re.compile(r"(?!)")  # no term: nothing is in it
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE)
