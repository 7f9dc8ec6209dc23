"""`auto` through a student, finely (issue 20 §6: ≥ 95 % of llm-only accuracy at ≤ 25 % of items
sent): `python -m reviewpulse_tools.bench.learning --parts routing` (or `make quality
LEARNING="--parts routing"`).

Per draw d (ROUTING_DRAWS of them): the set is split at the learning bench's SPLIT_SEED + d, a
simulated oracle LLM (the fake server's Oracle, seeded d: right `oracle_accuracy` of the time, a
random other label else) labels the pool's first STUDENT_LABELS items, a student is trained on those labels alone, and the
held-out items are read by the student and by the oracle (llm-only). `auto` sends an item to the
LLM when its confidence is below the threshold or the model flags it (a language it does not read:
analysis/routing.py's needs_llm), so what `auto` answers at any threshold follows from these two
readings; the learning bench's `student` part runs the engine itself at a few thresholds, and its
figures at split 20 are this part's draw 0's. From them, per draw:

- the curve by share sent, every 1 % of items: the least confident items sent first;
- the curve by threshold, every 0.01;
- what two thresholds chosen beforehand give: the model's own (its card's `auto.threshold`) and
  one read from its card's routing table for TARGET agreement with the LLM (agreeing_threshold);
- the smallest share sent (and the threshold giving it) at which `auto` reaches TARGET of llm-only
  accuracy; chosen on the held-out rows' gold labels, so it is what the best threshold could give,
  not what a threshold chosen beforehand gives.

Mean and standard error over the draws. Only the oracle's labels of the pool and the texts teach the
student; no gold label of the held-out rows chooses anything the product does.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
from reviewpulse.analysis.models.scorer import Scorer
from reviewpulse.analysis.models.training import train

from reviewpulse_tools.bench.labelled_data import LabelledSet

ROUTING_DRAWS = 8
TARGET = 0.95
SHARES = tuple(range(0, 101))  # per cent of items sent
THRESHOLDS = tuple(round(0.33 + 0.01 * i, 2) for i in range(68))  # 0.33 … 1.00
SHOWN_THRESHOLDS = (0.45, 0.5, 0.55, 0.58, 0.6, 0.62, 0.65, 0.7, 0.75, 0.8)
SHOWN_SHARES = (10, 15, 20, 22, 24, 25, 26, 28, 30, 35, 40, 50)


@dataclass(frozen=True)
class Splits:
    """The learning bench's split (learning.split), its first seed and how many pool items teach."""

    split: Callable[[LabelledSet, int], tuple[LabelledSet, LabelledSet]]
    seed: int
    teach: int


class Draw:
    """One draw's readings of the held-out items: the student's (label, confidence, flagged), the
    oracle's label, the gold label; and the student's own threshold (its card's)."""

    def __init__(
        self, model: list[tuple[str, float, bool]], llm: list[str], gold: list[str], own: float, agreeing: float
    ) -> None:
        self.model, self.llm, self.gold, self.own, self.agreeing = model, llm, gold, own, agreeing
        self.llm_accuracy = sum(a == g for a, g in zip(llm, gold, strict=True)) / len(gold)
        # Flagged items first (always sent), then the least confident.
        self.order = sorted(range(len(gold)), key=lambda i: (not model[i][2], model[i][1]))
        self.flagged = sum(1 for m in model if m[2])

    def relative_when_sending(self, k: int) -> float:
        """auto's accuracy as a share of llm-only's when the first k items of `order` are sent."""
        k = max(k, self.flagged)
        sent = set(self.order[:k])
        right = sum((self.llm[i] if i in sent else self.model[i][0]) == self.gold[i] for i in range(len(self.gold)))
        return right / len(self.gold) / self.llm_accuracy

    def at_threshold(self, threshold: float) -> tuple[float, float]:
        """(share sent, accuracy as a share of llm-only's) at this threshold."""
        sent = [m[2] or m[1] < threshold for m in self.model]
        right = sum((self.llm[i] if sent[i] else self.model[i][0]) == self.gold[i] for i in range(len(self.gold)))
        return sum(sent) / len(sent), right / len(self.gold) / self.llm_accuracy

    def smallest_share(self, target: float = TARGET) -> tuple[float, float]:
        """(share, threshold): the fewest items sent, least confident first, at which auto reaches
        `target` of llm-only accuracy; the threshold is the confidence of the first item kept."""
        n = len(self.gold)
        right_kept = sum(self.model[i][0] == self.gold[i] for i in range(n))
        right_sent = 0
        for k in range(n + 1):
            if k >= self.flagged and (right_kept + right_sent) / n / self.llm_accuracy >= target:
                threshold = self.model[self.order[k]][1] if k < n else 1.0
                return k / n, threshold
            if k < n:
                i = self.order[k]
                right_kept -= self.model[i][0] == self.gold[i]
                right_sent += self.llm[i] == self.gold[i]
        return 1.0, 1.0


def draw(labelled: LabelledSet, number: int, lexicon: LexiconAnalyzer, oracle_accuracy: float, splits: Splits) -> Draw:
    from reviewpulse_tools.doubles.fake_model import Oracle

    pool, held = splits.split(labelled, splits.seed + number)
    oracle = Oracle(dict(zip(labelled.texts, labelled.gold, strict=True)), oracle_accuracy, seed=number)
    teach = pool.texts[: splits.teach]
    taught = [oracle.answer(text) for text in teach]
    artifact = train(teach, taught, seed=0)
    scorer = Scorer(artifact, vader=lexicon.vader, language=lexicon.language)
    model = [(s.label.value, s.confidence, s.flag is not None) for s in scorer.analyze(held.texts)]
    llm = [oracle.answer(text) for text in held.texts]
    return Draw(model, llm, held.gold, artifact.card["auto"]["threshold"], agreeing_threshold(artifact.card))


def agreeing_threshold(card: dict, target: float = TARGET) -> float:
    """A rule a tenant could apply beforehand, from the student's card alone: the lowest threshold of
    its routing table (out-of-fold, every 0.05) at which the batch's labels would agree with the
    LLM's on `target` of items (the kept items agreeing as often as out of fold, the sent ones
    always)."""
    for row in card["routing"]:
        if row["accuracy"] is not None and row["kept"] * row["accuracy"] + (1 - row["kept"]) >= target:
            return row["threshold"]
    return 1.0


def _mean_se(values: Sequence[float], scale: float = 1.0, digits: int = 3) -> str:
    mean = statistics.mean(values) * scale
    se = statistics.stdev(values) / math.sqrt(len(values)) * scale if len(values) > 1 else float("nan")
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


def routing_report(labelled: LabelledSet, lexicon: LexiconAnalyzer, oracle_accuracy: float, splits: Splits,
                   draws: int = ROUTING_DRAWS, progress=None) -> list[str]:  # fmt: skip
    found = []
    for number in range(draws):
        found.append(draw(labelled, number, lexicon, oracle_accuracy, splits))
        if progress:
            share, threshold = found[-1].smallest_share()
            progress(f"routing {labelled.name}", f"draw {number}: {TARGET:.0%} at {share:.1%} sent (< {threshold:.3f})")
    smallest = [d.smallest_share() for d in found]
    own = [d.at_threshold(d.own) for d in found]
    agreeing = [d.at_threshold(d.agreeing) for d in found]
    lines = [
        f"#### {labelled.name}: auto through a student of {splits.teach:,} oracle labels, {draws} draws "
        f"(split seeds {splits.seed}–{splits.seed + draws - 1}, oracle seeds 0–{draws - 1}; mean ± standard error)",
        "",
        f"llm-only accuracy {_mean_se([d.llm_accuracy for d in found])}; student alone "
        f"{_mean_se([d.relative_when_sending(0) * d.llm_accuracy for d in found])}. **Smallest share sent for "
        f"{TARGET:.0%} of llm-only accuracy** (chosen on the held-out gold labels: the best a threshold can do): "
        f"{_mean_se([s for s, _ in smallest], 100, 1)} % (per draw: "
        f"{', '.join(f'{s:.1%}' for s, _ in smallest)}), at thresholds {_mean_se([t for _, t in smallest])}. "
        f"The model's own threshold ({_mean_se([d.own for d in found])}): {_mean_se([o[0] for o in own], 100, 1)} % "
        f"sent, {_mean_se([o[1] for o in own], 100, 1)} % of llm-only accuracy. The card's routing table read for "
        f"{TARGET:.0%} agreement with the LLM (thresholds {_mean_se([d.agreeing for d in found])}): "
        f"{_mean_se([a[0] for a in agreeing], 100, 1)} % sent, {_mean_se([a[1] for a in agreeing], 100, 1)} % of "
        "llm-only accuracy.",
        "",
        "| items sent (least confident first) | share of llm-only accuracy | draws at ≥ 95 % |",
        "|---|---|---|",
    ]
    for share in SHOWN_SHARES:
        relative = [d.relative_when_sending(math.ceil(share / 100 * len(d.gold))) for d in found]
        at_target = sum(r >= TARGET for r in relative)
        lines.append(f"| {share} % | {_mean_se(relative, 100, 1)} % | {at_target} of {draws} |")
    lines += ["", "| auto threshold | items sent | share of llm-only accuracy | draws at ≥ 95 % |", "|---|---|---|---|"]
    for threshold in SHOWN_THRESHOLDS:
        cells = [d.at_threshold(threshold) for d in found]
        at_target = sum(c[1] >= TARGET for c in cells)
        lines.append(
            f"| {threshold:.2f} | {_mean_se([c[0] for c in cells], 100, 1)} % | "
            f"{_mean_se([c[1] for c in cells], 100, 1)} % | {at_target} of {draws} |"
        )
    curve = [statistics.mean(d.relative_when_sending(math.ceil(s / 100 * len(d.gold))) for d in found) for s in SHARES]
    first = next((s for s, r in zip(SHARES, curve, strict=True) if r >= TARGET), None)
    lines += [
        "",
        f"On the mean curve (every 1 %), {TARGET:.0%} of llm-only accuracy is first reached at "
        f"{first if first is not None else '>100'} % sent. Every 1 %: "
        + " ".join(f"{s}:{r:.3f}" for s, r in zip(SHARES, curve, strict=True) if s <= 60),
    ]
    fine = [statistics.mean(d.at_threshold(t)[1] for d in found) for t in THRESHOLDS]
    sent = [statistics.mean(d.at_threshold(t)[0] for d in found) for t in THRESHOLDS]
    lines += [
        "",
        "Every 0.01 of threshold (sent, share of llm-only): "
        + " ".join(f"{t:.2f}:{s:.3f}/{r:.3f}" for t, s, r in zip(THRESHOLDS, sent, fine, strict=True) if t <= 0.8),
    ]
    return lines
