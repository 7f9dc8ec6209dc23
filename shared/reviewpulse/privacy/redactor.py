"""Typed placeholders for the personal data the detectors find, and the way back to the original."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from reviewpulse.privacy.detectors import KINDS, Detector, Finding, all_detectors

PLACEHOLDER = re.compile(r"\[(?:" + "|".join(KINDS) + r")_\d+\]")
# Themes are lower-cased before they are checked: "[email_1]" is a placeholder too.
_PLACEHOLDER_ANY_CASE = re.compile(PLACEHOLDER.pattern, re.IGNORECASE)
_PRECEDENCE = {kind: rank for rank, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class Redaction:
    """A text with its personal data replaced. `placeholders` maps each placeholder to the original
    value it stands for; restore(redacted) == original."""

    original: str
    text: str
    placeholders: Mapping[str, str] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()

    def restore(self, quote: str) -> str:
        """`quote` with this text's placeholders put back; other bracketed words stay as they are."""
        if not self.placeholders:
            return quote
        return PLACEHOLDER.sub(lambda match: self.placeholders.get(match.group(), match.group()), quote)

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self.placeholders.values())


class Redactor:
    """Runs the detectors, resolves overlaps by precedence (then the earlier, then the longer
    finding) and numbers placeholders per kind in order of first appearance."""

    def __init__(self, detectors: Sequence[Detector] | None = None) -> None:
        self._detectors = tuple(detectors) if detectors is not None else all_detectors()

    def findings(self, text: str) -> list[Finding]:
        found = [finding for detector in self._detectors for finding in detector(text)]
        found.sort(key=lambda f: (_PRECEDENCE.get(f.kind, len(KINDS)), f.start, -(f.end - f.start)))
        kept: list[Finding] = []
        for finding in found:
            if all(finding.end <= other.start or finding.start >= other.end for other in kept):
                kept.append(finding)
        return sorted(kept, key=lambda f: f.start)

    def redact(self, text: str) -> Redaction:
        findings = self.findings(text)
        if not findings:
            return Redaction(text, text)
        by_value: dict[str, str] = {}
        counters: dict[str, int] = {}
        pieces: list[str] = []
        position = 0
        for finding in findings:
            placeholder = by_value.get(finding.value)
            if placeholder is None:
                # Skip numbers whose placeholder the customer happened to write: a placeholder
                # must stand for one thing only, or restoring could not give the original back.
                while True:
                    counters[finding.kind] = counters.get(finding.kind, 0) + 1
                    placeholder = f"[{finding.kind}_{counters[finding.kind]}]"
                    if placeholder not in text:
                        break
                by_value[finding.value] = placeholder
            pieces += [text[position : finding.start], placeholder]
            position = finding.end
        pieces.append(text[position:])
        mapping = MappingProxyType({placeholder: value for value, placeholder in by_value.items()})
        return Redaction(text, "".join(pieces), mapping, tuple(findings))


@lru_cache(maxsize=1)
def _default() -> Redactor:
    return Redactor()


# A text is redacted again on each retry of its request: remember a chunk's worth (an LLM chunk is
# 200 items by default; at most 5,000 characters each, the cache stays within about 10 MB).
@lru_cache(maxsize=1024)
def redact(text: str) -> Redaction:
    """`text` with every kind of personal data the default detectors find replaced."""
    return _default().redact(text)


def mentions_personal_data(phrase: str, redaction: Redaction | None = None) -> bool:
    """Whether `phrase` (a theme, a summary) holds a placeholder, one of the values `redaction`
    replaced (compared without case), or anything the detectors find in it."""
    if _PLACEHOLDER_ANY_CASE.search(phrase):
        return True
    if redaction is not None:
        folded = phrase.casefold()
        if any(value.casefold() in folded for value in redaction.values):
            return True
    return bool(_default().findings(phrase))
