"""Categories a customer defines (options.categories): a name and the words and phrases that put an
item in it. An item is in every category one of whose terms its text holds as whole words, case
ignored (Unicode case folding; a phrase's words may be separated by any white space); it may be in
several or none.

A regular expression per category, not a library: the matching wanted is exactly "these words, as
words", which one alternation with word boundaries says. Before it runs, a cheaper test: a term can
only match where the text holds its first run of word characters (as a substring; with many terms,
as one of the text's words), so a category none of whose terms' first words the text holds is
skipped without a search (most are, in most texts: eight searches per item were a fifth of the
insights builder's time).

Themes found without an LLM are grouped under categories by words too (`theme_names`): a theme is
under a category when, case folded and each word reduced to its singular, its phrase holds one of
the category's terms as whole words ("battery life" under battery=battery; "delays" under
delays=delay,late).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")
FEW_KEYS = 64  # up to this many terms' first words in all, each is looked for as a substring


class CategoryMatcher:
    def __init__(self, categories: dict[str, list[str]]) -> None:
        self.names = list(categories)
        folded = [[term.casefold() for term in terms] for terms in categories.values()]
        self._patterns = [_pattern(terms) for terms in folded]
        # Per category, the first word of each term; None when a term has no word character
        # (then only the search can tell).
        self._keys: list[frozenset[str] | None] = []
        for terms in folded:
            firsts = [_WORD.search(term) for term in terms if term.split()]
            self._keys.append(None if not all(firsts) else frozenset(m.group() for m in firsts if m))
        self._terms = [[_singular_words(term) for term in terms if _singular_words(term)] for terms in folded]
        # Few first words: a substring test of each is cheaper than splitting the text into words.
        self._unkeyed = [index for index, keys in enumerate(self._keys) if keys is None]
        pairs = [(key, index) for index, keys in enumerate(self._keys) if keys is not None for key in keys]
        self._pairs = pairs if len(pairs) <= FEW_KEYS else None

    def of(self, text: str | None) -> list[str]:
        """The names of the categories `text` is in, in the options' order."""
        if not text or not self.names:  # no categories asked: the finalizer calls this for every row
            return []
        folded = text.casefold()
        if self._pairs is not None:
            maybe = {index for key, index in self._pairs if key in folded}.union(self._unkeyed)
            return [self.names[i] for i in sorted(maybe) if self._patterns[i].search(folded)]
        words = set(_WORD.findall(folded))
        return [
            name
            for name, keys, pattern in zip(self.names, self._keys, self._patterns, strict=True)
            if (keys is None or not keys.isdisjoint(words)) and pattern.search(folded)
        ]

    def theme_names(self, phrase: str) -> list[str]:
        """The categories a theme's phrase is under (see the module's note), in the options' order."""
        words = _singular_words(phrase.casefold())
        return [
            name for name, terms in zip(self.names, self._terms, strict=True) if any(_holds(words, t) for t in terms)
        ]


def _pattern(terms: list[str]) -> re.Pattern[str]:
    # Longest first, so that "customer service" is tried before "customer" (either way a match).
    words = sorted({r"\s+".join(map(re.escape, term.split())) for term in terms if term.split()}, key=len, reverse=True)
    if not words:
        return re.compile(r"(?!)")  # no term: nothing is in it
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)")


def singular(word: str) -> str:
    """A folded English word without its plural ending: batteries → battery, boxes → box, delays →
    delay, bags → bag; "glass", "status", "analysis" stay. Written here, not with a stemmer: only
    the plural is wanted (a stemmer also merges "delivery" with "deliver", and "general" with
    "generous"), and it would be one more dependency in every function's layer."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    return word[:-1]


def _singular_words(text: str) -> tuple[str, ...]:
    return tuple(singular(word) for word in _WORD.findall(text))


def _holds(words: tuple[str, ...], term: tuple[str, ...]) -> bool:
    """Whether `term`'s words occur in `words` in a row."""
    size = len(term)
    return any(words[start : start + size] == term for start in range(len(words) - size + 1))
