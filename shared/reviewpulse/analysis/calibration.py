"""The lexicon's confidence: the probability that its label is right, from a logistic model per
label over a few features of the text and of VADER's scores.

The weights live in calibration.json beside this module, fitted by `make calibrate`
(tools/reviewpulse_tools/calibrate.py) on the labelled sentences it names; the file records its
data, script and fit date. Applying it is a dot product and a logistic function: plain Python,
so the analyzer's layer needs no numpy.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from vaderSentiment.vaderSentiment import negated

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
FEATURES = (
    "abs_compound",
    "pos",
    "neg",
    "neu",
    "log_chars",
    "negation",
    "contrast",
    "question",
    "exclamation",
    "no_sentiment_words",
)
# A confidence is never certain: the data behind it are finite.
MIN_CONFIDENCE, MAX_CONFIDENCE = 0.01, 0.99
_CONTRAST = re.compile(r"\b(?:but|however|although|though|yet|except|whereas|while)\b", re.IGNORECASE)


def features(text: str, scores: dict[str, float]) -> dict[str, float]:
    """What the calibration looks at. Each is cheap: one pass over the text at most."""
    return {
        "abs_compound": abs(scores["compound"]),
        "pos": scores["pos"],
        "neg": scores["neg"],
        "neu": scores["neu"],
        "log_chars": math.log1p(len(text)) / 10,
        "negation": float(negated(text.split())),
        "contrast": float(_CONTRAST.search(text) is not None),
        "question": float("?" in text),
        "exclamation": float("!" in text),
        "no_sentiment_words": float(scores["pos"] == 0 and scores["neg"] == 0),
    }


@dataclass(frozen=True)
class LabelModel:
    intercept: float
    weights: dict[str, float]

    def probability(self, values: dict[str, float]) -> float:
        z = self.intercept + sum(weight * values[name] for name, weight in self.weights.items())
        # Written this way so that exp never overflows for a large |z|.
        p = 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
        return min(MAX_CONFIDENCE, max(MIN_CONFIDENCE, p))


class Calibration:
    def __init__(self, models: dict[str, LabelModel], provenance: dict | None = None) -> None:
        self.models = models
        self.provenance = provenance or {}

    @classmethod
    def from_json(cls, document: dict) -> Calibration:
        models = {
            label: LabelModel(float(model["intercept"]), {k: float(v) for k, v in model["weights"].items()})
            for label, model in document["labels"].items()
        }
        return cls(models, document.get("provenance"))

    @classmethod
    def shipped(cls) -> Calibration:
        return cls.from_json(json.loads(CALIBRATION_FILE.read_text(encoding="utf-8")))

    def confidence(self, label: str, values: dict[str, float]) -> float:
        return self.models[label].probability(values)
