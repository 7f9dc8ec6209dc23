"""Social text read as text before a model sees it: @handles, links, HTML entities, hashtags and
runs of punctuation normalised. The original text is what is stored, returned and quoted: this is
only what the model reads.

Not the lexicon's reading (analysis/normalise.py), on purpose: the lexicon must not score a
handle as its word, so it drops handles or reads them as "it"; a learned model gains from seeing
that a handle was there (replies to a brand are mostly complaints), so it reads one placeholder
token, and a link as one token too.

- `@united` → `@user`: a brand's handle is no word of praise ("united"), yet a handle is addressed;
- `https://t.co/x` → `http`: a link is there, its letters mean nothing;
- `&amp;` and the other HTML entities → their characters;
- `#fail` → `fail`;
- `!!!!!` → `!!!`, `....` → `...`: the run still counts, its length beyond three does not.
"""

from __future__ import annotations

import html
import re

HANDLE = "@user"
LINK = "http"
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@\w+")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_RUN = re.compile(r"([!?.])\1{3,}")


def normalise(text: str) -> str:
    # Each step only where its mark is there: most texts have few of them (the scorer's cost).
    if "://" in text or "www." in text.lower():
        text = _LINK.sub(f" {LINK} ", text)
    text = html.unescape(text)  # itself returns at once when there is no "&"
    if "@" in text:
        text = _HANDLE.sub(HANDLE, text)
    if "#" in text:
        text = _HASHTAG.sub(r"\1", text)
    if "!!!!" in text or "????" in text or "...." in text:
        text = _RUN.sub(r"\1\1\1", text)
    return text
