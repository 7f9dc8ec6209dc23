"""Aspects and themes for the lexicon engine: the sentences that name an aspect, scored on their own.

The evidence is the first such sentence, sliced from the text, so it occurs in it verbatim. The
lexicon engine cannot discover themes by itself; when a report is asked for, the aspects the task
named and the text mentions become its themes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reviewpulse.analysis.sentiment import EVIDENCE_MAX_CHARS, Analyzer, AspectSentiment, Label, Sentiment, ThemeMention

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def _mentions(aspect: str) -> re.Pattern[str]:
    """The aspect as whole words, singular or plural: "battery" finds "Battery" and "batteries"."""
    *first, last = aspect.split()
    if last.endswith("y") and len(last) > 1:
        plural = rf"{re.escape(last[:-1])}(?:y|ies)"
    else:
        plural = rf"{re.escape(last)}(?:s|es)?"
    return re.compile(r"\b" + r"\s+".join([*map(re.escape, first), plural]) + r"\b", re.IGNORECASE)


def lexicon_aspects(analyzer: Analyzer, text: str, aspects: Sequence[str]) -> tuple[AspectSentiment, ...]:
    found = []
    sentences = [match for match in _SENTENCE.finditer(text) if match.group().strip()]
    for aspect in aspects:
        pattern = _mentions(aspect)
        hits = [s for s in sentences if pattern.search(s.group())]
        if not hits:
            found.append(AspectSentiment(aspect=aspect, label="not_mentioned"))
            continue
        scored = analyzer.analyze([hit.group() for hit in hits])
        evidence = hits[0].group().strip()[:EVIDENCE_MAX_CHARS].strip()
        found.append(AspectSentiment(aspect=aspect, label=_combined_label(scored).value, evidence=evidence))
    return tuple(found)


def _combined_label(scored: list[Sentiment]) -> Label:
    labels = {s.label for s in scored} - {Label.NEUTRAL}
    if Label.MIXED in labels or labels == {Label.POSITIVE, Label.NEGATIVE}:
        return Label.MIXED
    return labels.pop() if labels else Label.NEUTRAL


def aspect_themes(aspects: Sequence[AspectSentiment]) -> tuple[ThemeMention, ...]:
    polarity = {Label.POSITIVE.value: "praise", Label.NEGATIVE.value: "complaint"}
    return tuple(
        ThemeMention(theme=a.aspect.casefold(), polarity=polarity[a.label]) for a in aspects if a.label in polarity
    )
