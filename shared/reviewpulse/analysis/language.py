"""Which language a text is written in, offline: Google's CLD3 (package cld3-py), whose model is
compiled into its wheel (0.7 MB; import ≈ 3 ms, ≈ 55 µs of CPU a short text; README, Figures)."""

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
# CLD3 costs about as much CPU as VADER itself on a short review, and it misreads short English
# ("Definitely a bargain." comes back Welsh). A text in which at least MIN_ENGLISH_WORDS words,
# and a MIN_ENGLISH_SHARE of all, are English function words or words of the caller's English
# vocabulary (the lexicon passes VADER's) is English without asking CLD3.
_ENGLISH_FUNCTION_WORDS = frozenset(
    "the a an and or but is are was were be been it its this that these those i you he she we they my "
    "your our their me him her us them to of in on for with at by from not no so very too just have has "
    "had do does did will would can could should than then there here what when which who how all".split()
)
MIN_ENGLISH_WORDS, MIN_ENGLISH_SHARE = 1, 0.25
_WORD = re.compile(r"[^\W\d_][\w']*")
# Mentions, hashtags and links say nothing of a text's language, and mislead CLD3.
_NOT_LANGUAGE = re.compile(r"[@#]\w+|https?://\S+")


class LanguageDetector:
    def __init__(self, english_words: frozenset[str] = frozenset()) -> None:
        self._cld3 = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=MAX_BYTES)
        self._english = _ENGLISH_FUNCTION_WORDS | english_words

    def detect(self, text: str) -> str:
        """An ISO 639-1 code (CLD3's, e.g. "en", "de", "ja"), or "und" when it cannot tell."""
        text = _NOT_LANGUAGE.sub(" ", text[: MAX_BYTES * 2])
        if len("".join(_LETTER.findall(text[:MAX_BYTES])).encode()) < MIN_LETTER_BYTES:
            return UNDETERMINED
        if self._looks_english(text[:MAX_BYTES]):
            return ENGLISH
        result = self._cld3.FindLanguage(text=text)
        if result.language == ENGLISH:
            return ENGLISH
        if result.is_reliable and result.probability >= MIN_PROBABILITY:
            return result.language
        return UNDETERMINED

    def _looks_english(self, text: str) -> bool:
        words = _WORD.findall(text.lower())
        english = sum(word in self._english for word in words)
        return english >= MIN_ENGLISH_WORDS and english >= MIN_ENGLISH_SHARE * len(words)
