"""Fit the lexicon's confidence calibration (`make calibrate`) and write
shared/reviewpulse/analysis/calibration.json.

One logistic regression per label (positive/negative/neutral) predicts whether that label is
right against the three-class view of the labelled sentences in ../shared/data
(labelled_data.py), from the features in reviewpulse.analysis.calibration. Before fitting on
everything it validates across domains: for each set, fit on the others and score it; the
expected calibration error of each held-out set is printed. scikit-learn is a dev dependency only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from reviewpulse.analysis.calibration import CALIBRATION_FILE, FEATURES, Calibration, LabelModel, features
from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer, label_of_compound
from reviewpulse.analysis.normalise import normalise_social

from reviewpulse_tools.bench.labelled_data import DEFAULT_DATA_DIR, NEUTRAL_BAND, load_sets

LABELS = ("positive", "negative", "neutral")
RELIABILITY_BINS = 10


def observations(analyzer: LexiconAnalyzer, texts: list[str], gold: list[str]) -> list[tuple[str, dict, bool]]:
    """(the lexicon's label, its features, whether the label is right) per text."""
    rows = []
    for text, truth in zip(texts, gold, strict=True):
        # As analyze_one: VADER scores the normalised text, the features read the original.
        scores = analyzer.scores(normalise_social(text))
        label = label_of_compound(max(-1.0, min(1.0, scores["compound"]))).value
        rows.append((label, features(text, scores), label == truth))
    return rows


def fit(rows: list[tuple[str, dict, bool]]) -> Calibration:
    from sklearn.linear_model import LogisticRegression

    models = {}
    for label in LABELS:
        mine = [(values, right) for got, values, right in rows if got == label]
        x = [[values[name] for name in FEATURES] for values, _ in mine]
        y = [int(right) for _, right in mine]
        if len(set(y)) < 2:  # all right or all wrong: a constant
            share = (sum(y) + 1) / (len(y) + 2)
            models[label] = LabelModel(_logit(share), dict.fromkeys(FEATURES, 0.0))
            continue
        regression = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
        models[label] = LabelModel(
            float(regression.intercept_[0]), {n: float(w) for n, w in zip(FEATURES, regression.coef_[0], strict=True)}
        )
    return Calibration(models)


def _logit(p: float) -> float:
    import math

    return math.log(p / (1 - p))


def expected_calibration_error(pairs: list[tuple[float, bool]], bins: int = RELIABILITY_BINS) -> float:
    """Σ over equal-width confidence bins of (share of items) × |accuracy − mean confidence|."""
    total = len(pairs) or 1
    error = 0.0
    for members in _bins(pairs, bins):
        if members:
            accuracy = sum(right for _, right in members) / len(members)
            confidence = sum(c for c, _ in members) / len(members)
            error += len(members) / total * abs(accuracy - confidence)
    return error


def _bins(pairs: list[tuple[float, bool]], bins: int) -> list[list[tuple[float, bool]]]:
    grouped: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for confidence, right in pairs:
        grouped[min(bins - 1, int(confidence * bins))].append((confidence, right))
    return grouped


def reliability_table(pairs: list[tuple[float, bool]], bins: int = RELIABILITY_BINS) -> list[str]:
    lines = ["| confidence | items | mean confidence | accuracy |", "|---|---|---|---|"]
    for k, members in enumerate(_bins(pairs, bins)):
        if members:
            accuracy = sum(right for _, right in members) / len(members)
            confidence = sum(c for c, _ in members) / len(members)
            lines.append(
                f"| {k / bins:.1f}–{(k + 1) / bins:.1f} | {len(members)} | {confidence:.3f} | {accuracy:.3f} |"
            )
    return lines


def scored(calibration: Calibration, rows: list[tuple[str, dict, bool]]) -> list[tuple[float, bool]]:
    return [(calibration.confidence(label, values), right) for label, values, right in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    args = parser.parse_args(argv)
    sets = load_sets(args.data)
    if not sets:
        print(f"no labelled sets under {args.data}", file=sys.stderr)
        return 2
    # Features only: the analyzer's own (shipped) calibration is not used here.
    analyzer = LexiconAnalyzer()
    rows = {s.name: observations(analyzer, s.texts, s.gold) for s in sets}
    print("Cross-domain validation: fit on the other sets, score the one named.")
    print("| held-out set | items | ECE |")
    print("|---|---|---|")
    for name, held_out in rows.items():
        others = [row for other, rs in rows.items() if other != name for row in rs]
        print(f"| {name} | {len(held_out)} | {expected_calibration_error(scored(fit(others), held_out)):.3f} |")
    everything = [row for rs in rows.values() for row in rs]
    calibration = fit(everything)
    document = {
        "provenance": {
            "script": "tools/reviewpulse_tools/bench/calibrate.py (make calibrate)",
            "data": {s.name: len(s.texts) for s in sets},
            "data_source": "../shared/data: UCI Sentiment Labelled Sentences; VADER ICWSM 2014 ground truth",
            "neutral_band": f"VADER mean rating within ±{NEUTRAL_BAND} is neutral; UCI is binary",
            "fitted": dt.date.today().isoformat(),
            "model": "one logistic regression per label: P(label right | features)",
        },
        "features": list(FEATURES),
        "labels": {
            label: {
                "intercept": round(model.intercept, 6),
                "weights": {k: round(v, 6) for k, v in model.weights.items()},
            }
            for label, model in calibration.models.items()
        },
    }
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
