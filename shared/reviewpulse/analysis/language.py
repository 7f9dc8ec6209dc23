"""Which language a text is written in, offline: Google's CLD3 (package cld3-py), whose model is
compiled into its wheel (about 0.7 MB; import ≈ 3 ms, ≈ 25 µs a text; see README, Figures)."""

from __future__ import annotations

import re

import gcld3

ENGLISH = "en"
# BCP 47's "undetermined": too little text to tell, or no language stands out.
UNDETERMINED = "und"
# Less letter text than this (in UTF-8 bytes, so that a Japanese or Chinese character, which says
# more than a Latin letter, weighs three) and CLD3 guesses wildly ("Terrible!" comes back Serbian).
MIN_LETTER_BYTES = 18
# A language other than English is named only when CLD3 is this sure; otherwise the text is
# undetermined (short English with names or slang is often mistaken for another language).
MIN_PROBABILITY = 0.7
# CLD3 reads at most this many bytes: the cost per text stays constant however long it is.
MAX_BYTES = 1000
_LETTER = re.compile(r"[^\W\d_]")


class LanguageDetector:
    def __init__(self) -> None:
        self._cld3 = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=MAX_BYTES)

    def detect(self, text: str) -> str:
        """An ISO 639-1 code (CLD3's, e.g. "en", "de", "ja"), or "und" when it cannot tell."""
        if len("".join(_LETTER.findall(text[:MAX_BYTES])).encode()) < MIN_LETTER_BYTES:
            return UNDETERMINED
        result = self._cld3.FindLanguage(text=text)
        if result.language == ENGLISH:
            return ENGLISH
        if result.is_reliable and result.probability >= MIN_PROBABILITY:
            return result.language
        return UNDETERMINED
