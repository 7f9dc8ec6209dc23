"""A generated labelled corpus in a tenant's own words: for tests and benchmarks of tenant models,
which must not need ../shared/data.

Each text mixes shared filler (products, days, handles, links) with what marks its class in this
"tenant's" language: made-up words and slang the lexicon cannot know ("zorbly", "it slaps"), and
words the lexicon reads the wrong way round here ("sick" as praise, "thanks @brand" in a
complaint). A share of the labels can be flipped (`noise`) to play an annotator (or an LLM) that
is sometimes wrong. Seeded: the same arguments give the same corpus.
"""

from __future__ import annotations

import random

ITEMS = ("the headset", "my order", "the app", "the charger", "this blender", "the update", "the courier")
FILLER = ("today", "on tuesday", "again", "this morning", "after a week", "", "", "")
HANDLES = ("@acmehelp", "@united", "@shopnow", "")
LINKS = ("https://t.co/x1y2z3", "http://acme.example/r/42", "")
MARKERS = {
    "positive": (
        "is zorbly",
        "totally slaps",
        "is sick, no joke",
        "went flawlessly",
        "is a keeper",
        "was quick and painless",
        "blorped perfectly",
    ),
    "negative": (
        "is grubbish",
        "went kaput",
        "thanks for nothing",
        "still waiting, please help",
        "keeps glitching",
        "is a total dud",
        "broke and nobody answers",
    ),
    "neutral": (
        "arrived",
        "is in the box",
        "was delivered",
        "ships in blue",
        "has a manual",
        "comes in two sizes",
        "got updated",
    ),
}
LABELS = tuple(MARKERS)


def corpus(
    n: int, *, seed: int = 0, noise: float = 0.0, labels: tuple[str, ...] = LABELS
) -> tuple[list[str], list[str]]:
    """n texts and their labels, the classes in turn (balanced), with a `noise` share flipped."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible corpus, not a secret
    texts, gold = [], []
    for i in range(n):
        label = labels[i % len(labels)]
        parts = [
            rng.choice(HANDLES),
            rng.choice(ITEMS),
            rng.choice(MARKERS[label]),
            rng.choice(FILLER),
            rng.choice(LINKS),
        ]
        texts.append(" ".join(part for part in parts if part))
        if noise and rng.random() < noise:
            label = rng.choice([other for other in labels if other != label])
        gold.append(label)
    return texts, gold
