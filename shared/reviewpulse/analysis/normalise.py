"""Social text read as text: what the lexicon and the theme finder see of a tweet or a chat line.

A brand's @handle that is also an English word ("@united", "@AmericanAir" → "american air" is not,
but "@united" is), the pieces of a t.co link ("http", "co", "…"), HTML entities that a platform
escaped (`&amp;` read as the word "amp") and punctuation repeated for emphasis are not what a
customer said about a product. Measured on ../shared/data (README, Figures): stripping handles and
links is worth several points of lexicon accuracy on tweets, and nothing is lost on reviews.

Only what is analysed is normalised: the ORIGINAL text is what is stored, returned and quoted
(theme examples and aspect evidence are slices of the original). The LLM engine is given the
original (minus personal data): an LLM reads handles, links and hashtags as context.

Written here with four regular expressions rather than with a tweet tokenizer library (NLTK's
TweetTokenizer brings NLTK; ekphrasis brings a model): what is needed is small and fixed.
"""

from __future__ import annotations

import html
import re

# A link: a scheme or "www." up to the next white space, or a bare t.co/bit.ly style short link.
_URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S+|\b(?:t\.co|bit\.ly|goo\.gl|ow\.ly)/\S*", re.IGNORECASE)
# A handle (@united, @Delta_Assist): not an e-mail address (no word character before the @).
_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")
# The handles a reply or retweet starts with (".@panic", "RT @keelzy:") and a run that ends it.
_LEADING_HANDLES = re.compile(r"^\s*(?:(?:RT\s*)?\.?@\w{1,30}:?\s*)+", re.IGNORECASE)
_TRAILING_HANDLES = re.compile(r"(?:\s+@\w{1,30})+\s*$")
# A handle inside a sentence stands for someone: read as a neutral pronoun, so that the words
# around it keep their distance (VADER's negation and booster windows count words).
HANDLE_IN_SENTENCE = "it"
# An HTML entity a platform left escaped: &amp; &lt; &#39; &#x27;
_ENTITY = re.compile(r"&(?:[a-z]{2,8}|#\d{1,6}|#x[0-9a-f]{1,6});", re.IGNORECASE)
# A hashtag: its word is kept (#fail says "fail"), the mark goes.
_HASHTAG = re.compile(r"(?<![\w&])#(?=\w)")
# One punctuation mark repeated four or more times: VADER's emphasis counts up to three (! and ?)
# and a run of dots is an ellipsis; longer runs add nothing but tokens.
_REPEATED = re.compile(r"([!?.,*~\-=])\1{3,}")
_SPACES = re.compile(r"[ \t]{2,}")


def normalise_social(text: str) -> str:
    """The text an engine scores: links removed, @handles that open or close it removed and those
    inside a sentence read as "it" (a handle is never scored as its word: "@united" is no praise),
    HTML entities read (`&amp;` → `&`),
    hashtags read as their word (`#fail` → `fail`), runs of one punctuation mark cut to three.
    Pure; a text without any of these comes back unchanged (the same object)."""
    if not _might_need(text):
        return text
    text = _URL.sub(" ", text)
    text = _LEADING_HANDLES.sub(" ", text)
    text = _TRAILING_HANDLES.sub(" ", text)
    text = _HANDLE.sub(HANDLE_IN_SENTENCE, text)
    if "&" in text:
        text = html.unescape(text)
    text = _HASHTAG.sub("", text)
    text = _REPEATED.sub(r"\1\1\1", text)
    return _SPACES.sub(" ", text).strip()


def mask_social(text: str) -> str:
    """The same reading for finding phrases, length kept: links, handles and entities become
    spaces and a hashtag's mark a space, so that position i of the result is position i of the
    original (a phrase's sentence is quoted from the original text, verbatim)."""
    if not _might_need(text):
        return text
    blank = _blank
    text = _URL.sub(blank, text)
    text = _HANDLE.sub(blank, text)
    text = _ENTITY.sub(blank, text)
    return _HASHTAG.sub(" ", text)


def _blank(match: re.Match) -> str:
    return " " * (match.end() - match.start())


def _might_need(text: str) -> bool:
    # Most reviews have none of these marks: skip the regular expressions for them.
    return any(mark in text for mark in ("@", "#", "&", "://", "www.", "/", "!!!!", "????", "....", "----", ",,,,"))
