"""Teach a model from labelled rows: a multinomial logistic regression over the features of
features.py, fitted with scikit-learn.

scikit-learn, numpy and scipy are imported inside `train` only: they belong to the training path
(the training function's layer and the developer tools), never to the analyzer, which scores an
artifact in plain Python (scorer.py). tests/unit/test_models.py holds that importing the scorer,
the artifact and the engines loads none of them.

How it is fitted (and what the model card records):
- the rows are checked first (check_rows): no rows, a label that is not a sentiment label, one
  class only, or a class with fewer than MIN_ROWS_PER_CLASS rows is a TrainingDataRejected with a
  stable code, before any fitting;
- the inverse regularisation strength C is chosen from C_GRID by stratified k-fold
  cross-validation (k = FOLDS, LARGE_FOLDS from LARGE_ROWS rows on, fewer when the smallest class
  is smaller), on the out-of-fold log loss after temperature scaling; within a fold the grid is
  walked from the smallest C up, each fit starting from the previous one's weights (lbfgs warm
  start), which is what keeps 10,000 rows within the training function's timeout;
- a temperature is fitted on the out-of-fold logits at that C (minimising their log loss), so the
  probabilities the scorer gives are calibrated; the card records ECE before and after;
- the out-of-fold predictions give the card's accuracy, macro-F1, ECE, reliability table,
  confusion matrix and routing table (share of items kept and their accuracy per confidence
  threshold), and the threshold `auto` uses by default (auto_threshold);
- the final model is fitted on every row at the chosen C.
"""

from __future__ import annotations

import math
import platform
import time
from collections import Counter
from collections.abc import Sequence
from importlib import metadata

from reviewpulse.analysis.models.artifact import ModelArtifact
from reviewpulse.analysis.models.features import Featurizer, HashingSpec
from reviewpulse.analysis.models.routing import AUTO_TARGET_ACCURACY, threshold_for
from reviewpulse.analysis.sentiment import Label
from reviewpulse.analysis.vader_linear import LinearVader
from reviewpulse.clock import now
from reviewpulse.errors import TrainingDataRejected

# Fewer rows than this in a class and neither the fit nor its cross-validated figures mean much.
MIN_ROWS_PER_CLASS = 10
FOLDS = 5
# From this many rows on, 3 folds: each fit costs about its rows, and the out-of-fold figures of
# thousands of rows are steady with 3 (measured: 10,000 rows in ~2 min instead of >13 CPU-min).
LARGE_ROWS = 5000
LARGE_FOLDS = 3
# Ascending (warm starts walk it). On the shared sets' cross-validation the larger C of the old
# grid (8, 16) were never better and cost the most iterations.
C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0)
RELIABILITY_BINS = 10
# The confidence thresholds the routing table reports (auto keeps items at or above one).
ROUTING_THRESHOLDS = tuple(round(0.30 + 0.05 * i, 2) for i in range(14))
LABELS = tuple(label.value for label in Label)
MAX_ITER = 1000


def check_rows(texts: Sequence[str], labels: Sequence[str]) -> Counter:
    """Rows per label, or TrainingDataRejected with a stable code (errors.TRAINING_ERROR_CODES)."""
    if len(texts) != len(labels):
        raise ValueError("one label per text")
    if not texts:
        raise TrainingDataRejected("no-training-rows", "there are no labelled rows to learn from")
    unknown = sorted({label for label in labels if label not in LABELS})
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:5])
        raise TrainingDataRejected(
            "invalid-training-label", f"labels must be one of {', '.join(LABELS)}; found {shown}"
        )
    counts = Counter(labels)
    if len(counts) < 2:
        raise TrainingDataRejected(
            "one-class-only", f"every row is labelled {next(iter(counts))}: a model needs two classes or more"
        )
    small = {label: n for label, n in sorted(counts.items()) if n < MIN_ROWS_PER_CLASS}
    if small:
        have = ", ".join(f"{label} {n}" for label, n in small.items())
        raise TrainingDataRejected(
            "too-few-per-class", f"each class needs at least {MIN_ROWS_PER_CLASS} labelled rows; {have}"
        )
    return counts


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    seed: int = 0,
    spec: HashingSpec | None = None,
    folds: int = FOLDS,
    c_grid: Sequence[float] = C_GRID,
    target_accuracy: float = AUTO_TARGET_ACCURACY,
) -> ModelArtifact:
    """A model of these labelled texts (labels: positive, negative, neutral or mixed)."""
    counts = check_rows(texts, labels)
    from threadpoolctl import threadpool_limits

    # One thread: the fits are small, and BLAS threads fighting over a busy machine's cores made
    # them 30 times slower here (a Lambda function of the training size has one or two vCPUs).
    with threadpool_limits(limits=1):
        return _train(texts, labels, counts, seed, spec or HashingSpec(), folds, c_grid, target_accuracy)


def _train(texts, labels, counts, seed, spec, folds, c_grid, target_accuracy) -> ModelArtifact:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    started = time.perf_counter()
    classes = tuple(label for label in LABELS if label in counts)
    full = feature_matrix(texts, spec)
    # Only the columns some text reaches are fitted: under L2 a column no text reaches keeps a
    # weight of exactly zero, so leaving it out changes nothing but the cost (2^19 columns → a few
    # ten thousand).
    used = np.unique(full.indices)
    x = full[:, used]
    y = np.array([classes.index(label) for label in labels])

    if len(y) >= LARGE_ROWS:
        folds = min(folds, LARGE_FOLDS)
    k = max(2, min(folds, min(counts.values())))
    splits = list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    grid = sorted(c_grid)
    out_of_fold = {c: np.zeros((len(y), len(classes))) for c in grid}
    for train_rows, held_out in splits:
        model = LogisticRegression(C=grid[0], max_iter=MAX_ITER, warm_start=True)
        for c in grid:
            model.set_params(C=c)
            model.fit(x[train_rows], y[train_rows])
            out_of_fold[c][held_out] = _logits(model, x[held_out], np)
    best = None
    for c in grid:
        logits = out_of_fold[c]
        temperature = _fit_temperature(logits, y, np)
        loss = _log_loss(logits / temperature, y, np)
        if best is None or loss < best[0]:
            best = (loss, c, temperature, logits)
    loss, c, temperature, logits = best
    final = LogisticRegression(C=c, max_iter=MAX_ITER).fit(x, y)
    probabilities = _softmax(logits / temperature, np)
    card = _card(
        classes=classes,
        counts=counts,
        y=y,
        probabilities=probabilities,
        raw_probabilities=_softmax(logits, np),
        folds=k,
        c=c,
        c_grid=c_grid,
        spec=spec,
        temperature=temperature,
        log_loss=loss,
        seed=seed,
        target_accuracy=target_accuracy,
        seconds=time.perf_counter() - started,
        np=np,
    )
    artifact = artifact_of(final, classes, spec, used, temperature=temperature, card=card)
    return artifact.with_identity("", artifact.digest())


def feature_matrix(texts: Sequence[str], spec: HashingSpec, featurizer: Featurizer | None = None):
    """The scipy CSR matrix of these texts' features (every column of the spec)."""
    import numpy as np
    import scipy.sparse as sp

    featurizer = featurizer or Featurizer(spec, LinearVader())
    return _matrix([featurizer.row(text) for text in texts], spec.dimensions, np, sp)


def artifact_of(estimator, classes: Sequence[str], spec: HashingSpec, used=None, *, temperature: float = 1.0,
                card: dict | None = None) -> ModelArtifact:  # fmt: skip
    """The artifact of a fitted scikit-learn LogisticRegression whose columns are `used` (indices
    into the spec's features; all of them when None)."""
    from array import array

    import numpy as np

    coef = np.zeros((estimator.coef_.shape[0], spec.dimensions))
    coef[:, slice(None) if used is None else used] = estimator.coef_
    intercept = estimator.intercept_.astype(np.float64)
    if len(classes) == 2:  # scikit-learn keeps one row for two classes: P(second) = σ(w·x + b)
        coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
        intercept = np.array([0.0, intercept[0]])
    return ModelArtifact(
        classes=tuple(classes),
        intercept=tuple(float(v) for v in intercept),
        weights=tuple(array("f", row.astype(np.float32).tobytes()) for row in coef),
        spec=spec,
        temperature=float(temperature),
        card=card or {},
    )


def _matrix(rows: list[dict[int, float]], dimensions: int, np, sp):
    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    for row in rows:
        indices.extend(row)
        values.extend(row.values())
        indptr.append(len(indices))
    return sp.csr_matrix(
        (np.array(values, dtype=np.float64), np.array(indices, dtype=np.int64), np.array(indptr, dtype=np.int64)),
        shape=(len(rows), dimensions),
    )


def _logits(model, x, np):
    scores = model.decision_function(x)
    if scores.ndim == 1:  # two classes: one score, the second class's logit against the first's 0
        return np.column_stack([np.zeros_like(scores), scores])
    return scores


def _softmax(logits, np):
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def _log_loss(logits, y, np) -> float:
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


def _fit_temperature(logits, y, np) -> float:
    """The temperature that minimises the out-of-fold log loss (Guo et al., 2017), in [0.05, 20]."""
    from scipy.optimize import minimize_scalar

    found = minimize_scalar(
        lambda log_t: _log_loss(logits / math.exp(log_t), y, np),
        bounds=(math.log(0.05), math.log(20)),
        method="bounded",
    )
    return float(math.exp(found.x))


def _card(*, classes, counts, y, probabilities, raw_probabilities, folds, c, c_grid, spec, temperature, log_loss, seed,
          target_accuracy, seconds, np) -> dict:  # fmt: skip
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    right = predicted == y
    confusion = [[int(((y == g) & (predicted == p)).sum()) for p in range(len(classes))] for g in range(len(classes))]
    pairs = list(zip(confidence.tolist(), right.tolist(), strict=True))
    raw_pairs = list(
        zip(raw_probabilities.max(axis=1).tolist(), (raw_probabilities.argmax(axis=1) == y).tolist(), strict=True)
    )
    routing = routing_table(pairs)
    return {
        "rows": int(len(y)),
        "rows_per_class": {label: int(counts[label]) for label in classes},
        "classes": list(classes),
        "features": _FEATURES[spec.version],
        "features_version": spec.version,
        "cross_validation": {
            "folds": int(folds),
            "accuracy": round(float(right.mean()), 4),
            "macro_f1": round(macro_f1(confusion), 4),
            "ece": round(expected_calibration_error(pairs), 4),
            "ece_before_temperature": round(expected_calibration_error(raw_pairs), 4),
            "log_loss": round(log_loss, 4),
            "confusion": {"rows": "gold", "columns": "predicted", "labels": list(classes), "counts": confusion},
            "reliability": reliability_table(pairs),
        },
        "regularisation": {"C": c, "grid": sorted(c_grid), "chosen_by": "out-of-fold log loss"},
        "temperature": round(temperature, 4),
        "routing": routing,
        "auto": {"target_accuracy": target_accuracy, "threshold": threshold_for(pairs, target_accuracy)},
        "seed": seed,
        "trained_at": now().isoformat(timespec="seconds"),
        "training_seconds": round(seconds, 2),
        "libraries": _versions(),
    }


_FEATURES = {
    1: "normalised text: hashed word uni- and bigrams, hashed char n-grams of each word, VADER's four scores",
    2: "normalised text: hashed word uni- and bigrams, hashed char n-grams of each word, "
    "VADER lexicon valences (negation-scaled: neg share, pos share, compound)",
    3: "normalised text: hashed word uni- and bigrams, hashed char n-grams of each word, "
    "VADER lexicon valences (negated within 3 tokens of a negator: neg share, pos share, compound)",
}


def macro_f1(confusion: list[list[int]]) -> float:
    scores = []
    for k in range(len(confusion)):
        tp = confusion[k][k]
        fn = sum(confusion[k]) - tp
        fp = sum(row[k] for row in confusion) - tp
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def expected_calibration_error(pairs: Sequence[tuple[float, bool]], bins: int = RELIABILITY_BINS) -> float:
    """Σ over equal-width confidence bins of |accuracy − mean confidence| × the bin's share."""
    total = len(pairs) or 1
    error = 0.0
    for row in reliability_table(pairs, bins):
        error += abs(row["accuracy"] - row["mean_confidence"]) * row["items"] / total
    return error


def reliability_table(pairs: Sequence[tuple[float, bool]], bins: int = RELIABILITY_BINS) -> list[dict]:
    """Per non-empty equal-width bin of confidence: its range, items, mean confidence, accuracy."""
    grouped: dict[int, list[tuple[float, bool]]] = {}
    for confidence, right in pairs:
        grouped.setdefault(min(bins - 1, int(confidence * bins)), []).append((confidence, right))
    return [
        {
            "low": round(b / bins, 2),
            "high": round((b + 1) / bins, 2),
            "items": len(members),
            "mean_confidence": round(sum(c for c, _ in members) / len(members), 4),
            "accuracy": round(sum(r for _, r in members) / len(members), 4),
        }
        for b, members in sorted(grouped.items())
    ]


def routing_table(pairs: Sequence[tuple[float, bool]]) -> list[dict]:
    """Per threshold: the share of items at or above it (what `auto` keeps) and their accuracy."""
    table = []
    for threshold in ROUTING_THRESHOLDS:
        kept = [right for confidence, right in pairs if confidence >= threshold]
        table.append(
            {
                "threshold": threshold,
                "kept": round(len(kept) / (len(pairs) or 1), 4),
                "accuracy": round(sum(kept) / len(kept), 4) if kept else None,
            }
        )
    return table


def _versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in ("scikit-learn", "numpy", "scipy", "vaderSentiment", "reviewpulse"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions
