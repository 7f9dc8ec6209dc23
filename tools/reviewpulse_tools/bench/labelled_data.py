"""The labelled sentences in ../shared/data, read as a three-class view (positive/negative/neutral).

- UCI "Sentiment Labelled Sentences" (Kotzias et al., KDD 2015): `sentence<TAB>0|1`, binary, so
  no sentence is gold neutral. The imdb file holds U+0085, which str.splitlines() would break on,
  and unbalanced quotes: lines are split on "\\n" only, and no csv module is used.
- VADER's human-rated sentences (Hutto & Gilbert, ICWSM 2014): `id<TAB>mean rating<TAB>text`, the
  mean of about 20 raters from -4 to +4. Neutral band: a mean within ±NEUTRAL_BAND is neutral —
  half a step of the raters' scale, i.e. the raters on average did not lean one way. The VADER
  lexicon was validated on this material, so its figures flatter a lexicon engine.
- CrowdFlower's "Apple Twitter Sentiment" (December 2014): a CSV in Windows-1252 with embedded
  newlines; `sentiment` 1 negative, 3 neutral, 5 positive, `not_relevant` rows left out. Tweets
  to and about a brand, with handles, hashtags, links and `&amp;`: the closest set to a support inbox.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# ../shared/data beside the repository, unless REVIEWPULSE_DATA names another folder.
DEFAULT_DATA_DIR = Path(os.environ.get("REVIEWPULSE_DATA") or Path(__file__).resolve().parents[4] / "shared" / "data")
NEUTRAL_BAND = 0.5
UCI = "uci_sentiment_labelled_sentences"
APPLE = "apple_twitter_crowdflower/Apple-Twitter-Sentiment-DFE.csv"
_APPLE_GOLD = {"1": "negative", "3": "neutral", "5": "positive"}
VADER = "vader_icwsm2014"


@dataclass(frozen=True)
class LabelledSet:
    name: str  # e.g. "uci/amazon", "vader/tweets"
    domain: str  # "product reviews", "movie reviews", "restaurant reviews", "tweets", "editorials"
    texts: list[str]
    gold: list[str]  # positive | negative | neutral


def gold_of_rating(rating: float) -> str:
    if rating > NEUTRAL_BAND:
        return "positive"
    if rating < -NEUTRAL_BAND:
        return "negative"
    return "neutral"


def read_uci(path: Path) -> tuple[list[str], list[str]]:
    texts, gold = [], []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if "\t" in line:
            text, label = line.rsplit("\t", 1)
            if label.strip() in ("0", "1"):
                texts.append(text)
                gold.append("positive" if label.strip() == "1" else "negative")
    return texts, gold


def read_vader(path: Path) -> tuple[list[str], list[str]]:
    texts, gold = [], []
    for line in path.read_text(encoding="utf-8").split("\n"):
        parts = line.rstrip("\r").split("\t", 2)
        if len(parts) == 3:
            try:
                rating = float(parts[1])
            except ValueError:
                continue
            texts.append(parts[2])
            gold.append(gold_of_rating(rating))
    return texts, gold


def read_apple(path: Path) -> tuple[list[str], list[str]]:
    import csv

    texts, gold = [], []
    with open(path, encoding="cp1252", errors="replace", newline="") as file:
        for row in csv.DictReader(file):
            label = _APPLE_GOLD.get((row.get("sentiment") or "").strip())
            if label is not None:
                texts.append(row["text"])
                gold.append(label)
    return texts, gold


_UCI_SETS = {"amazon": "product reviews", "imdb": "movie reviews", "yelp": "restaurant reviews"}
_VADER_SETS = {
    "amazonReviewSnippets": ("amazon", "product reviews"),
    "movieReviewSnippets": ("movies", "movie reviews"),
    "nytEditorialSnippets": ("nyt", "editorials"),
    "tweets": ("tweets", "tweets"),
}


def load_sets(data_dir: Path = DEFAULT_DATA_DIR) -> list[LabelledSet]:
    """Every set found under data_dir (none when it is absent)."""
    sets = []
    for stem, domain in _UCI_SETS.items():
        file = "amazon_cells_labelled.txt" if stem == "amazon" else f"{stem}_labelled.txt"
        path = data_dir / UCI / file
        if path.exists():
            sets.append(LabelledSet(f"uci/{stem}", domain, *read_uci(path)))
    for stem, (short, domain) in _VADER_SETS.items():
        path = data_dir / VADER / f"{stem}_GroundTruth.txt"
        if path.exists():
            sets.append(LabelledSet(f"vader/{short}", domain, *read_vader(path)))
    if (data_dir / APPLE).exists():
        sets.append(LabelledSet("apple/tweets", "tweets to and about a brand", *read_apple(data_dir / APPLE)))
    return sets
