"""Tenant-model figures (issue 20 §6), the second half of `make quality` (or alone: `python -m
reviewpulse_tools.bench.learning`): what a model trained on a tenant's labels is worth, against
the lexicon, on every labelled set in ../shared/data.

- Every set is shuffled once (random.Random(SPLIT_SEED)): its first rows after the shuffle are the
  pool models are trained from, the rest (at least MIN_REST rows, the same for every N) is held
  out and scored. No figure is measured on a row a model was trained on, and nothing was tuned on
  the held-out rows (the training's own choices are by cross-validation inside its rows). The
  shuffle matters: some files are sorted (the movie snippets by rating, the Apple tweets by time).
- In-domain learning curves: train on the first N pool rows (100, 200, 500, 1,000, 2,000 where the
  pool has them), score the held-out rows; the lexicon on the same rows. Accuracy, macro-F1 and
  expected calibration error (ECE) of each, and the model's training time.
- Across domains: a model trained on one set's pool (2,000 rows at most) scores every set's held-out
  rows (its own included: the diagonal is in-domain). UCI's sets have no neutral class: a model
  trained on one never says neutral.
- The oracle student: the fake OpenAI server in oracle mode (right 90 % of the time) labels the
  first 2,000 shuffled items of a three-class tweet set; a model is trained on those labels alone; then `auto`
  runs through the real engine code with that model (options.model_id) over the rest, at several
  thresholds and at the model's own: accuracy as a share of llm-only's, and the share sent.
- The student's routing curve, finely (`--parts routing`, not in the default run): every 1 % sent
  and every 0.01 of threshold over several splits and oracle seeds (learning_routing.py).
- Tuning inside the pool (`--parts pool`, not in the default run): the protocol every tuning row
  of docs/engines-and-quality.md was measured by. POOL_DRAWS times, POOL_LABELS rows drawn at
  random from the pool train a model as `train` does and the pool's other rows score it: mean
  accuracy and ECE with their standard errors over the draws. The held-out rows are not read, so a
  variant can be tried against this row as often as needed; only the one kept is then measured on
  the held-out rows, once.
- Speed and size: characters per second of the model's scorer (with the language check the
  analyzer makes) against the lexicon's on the same texts, the time to read an artifact and build
  its scorer, the artifact's size; training on 10,000 rows (the first 10,000 movie-review
  snippets): seconds and peak memory, measured in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.engines.registry import engine_for
from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
from reviewpulse.analysis.models.artifact import ModelArtifact
from reviewpulse.analysis.models.features import FEATURES_VERSION, HashingSpec
from reviewpulse.analysis.models.scorer import Scorer
from reviewpulse.analysis.models.training import train
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.analysis.sentiment import Analysis
from reviewpulse.errors import ModelNotFound
from reviewpulse.settings import Settings

from reviewpulse_tools.bench.calibrate import expected_calibration_error
from reviewpulse_tools.bench.labelled_data import DEFAULT_DATA_DIR, LabelledSet, load_sets
from reviewpulse_tools.bench.quality import accuracy, llm_engine, llm_labels, macro_f1

SIZES = (100, 200, 500, 1000, 2000)
MIN_REST = 500
CROSS_TRAIN_MAX = 2000
STUDENT_LABELS = 2000
STUDENT_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
APPLE = "apple_twitter_crowdflower/Apple-Twitter-Sentiment-DFE.csv"
APPLE_LABELS = {"1": "negative", "3": "neutral", "5": "positive"}
TRAIN_10K_ROWS = 10_000
SPLIT_SEED = 20
POOL_LABELS = 500
POOL_DRAWS = 4
POOL_SEEDS_FROM = 100


def load_apple(data_dir: Path) -> LabelledSet | None:
    """CrowdFlower's Apple tweets (README of ../shared/data): Latin-1 CSV, labels 1/3/5, 82 rows
    not_relevant (left out)."""
    path = data_dir / APPLE
    if not path.exists():
        return None
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("latin-1"))))
    kept = [row for row in rows if row["sentiment"] in APPLE_LABELS]
    return LabelledSet(
        "apple/tweets", "tweets to a brand", [r["text"] for r in kept], [APPLE_LABELS[r["sentiment"]] for r in kept]
    )


def all_sets(data_dir: Path) -> list[LabelledSet]:
    apple = load_apple(data_dir)
    others = [s for s in load_sets(data_dir) if apple is None or s.name != apple.name]
    return [*([apple] if apple else []), *others]


def split(labelled: LabelledSet, seed: int = SPLIT_SEED) -> tuple[LabelledSet, LabelledSet]:
    """(pool, held out): the set shuffled once by `seed`; the pool is its first rows (max(SIZES)
    at most, leaving MIN_REST or more held out)."""
    order = list(range(len(labelled.texts)))
    random.Random(seed).shuffle(order)  # noqa: S311 (a reproducible split, not a secret)
    size = max(0, min(max(SIZES), len(order) - MIN_REST))

    def part(rows: list[int]) -> LabelledSet:
        return LabelledSet(
            labelled.name, labelled.domain, [labelled.texts[i] for i in rows], [labelled.gold[i] for i in rows]
        )

    return part(order[:size]), part(order[size:])


class MemoryModels:
    """A ModelStore over artifacts held in memory (the bench's stand-in for the bucket)."""

    def __init__(self) -> None:
        self.artifacts: dict[tuple[str, str], ModelArtifact] = {}

    def add(self, tenant: str, artifact: ModelArtifact) -> None:
        self.artifacts[(tenant, artifact.model_id)] = artifact

    def current_version(self, tenant: str, model_id: str) -> str:
        return self.load(tenant, model_id).version

    def load(self, tenant: str, model_id: str, version: str | None = None) -> ModelArtifact:
        try:
            return self.artifacts[(tenant, model_id)]
        except KeyError:
            raise ModelNotFound(model_id) from None


def scored(labels: Sequence[str], confidences: Sequence[float], gold: Sequence[str]) -> tuple[float, float, float]:
    pairs = [(c, p == g) for p, c, g in zip(labels, confidences, gold, strict=True)]
    return accuracy(labels, gold), macro_f1(labels, gold), expected_calibration_error(pairs)


def in_domain(labelled: LabelledSet, lexicon: LexiconAnalyzer) -> list[str]:
    pool, held_out = split(labelled)
    lines = [
        f"#### {labelled.name} ({labelled.domain}, {len(labelled.texts):,} rows): train on N of the "
        f"{len(pool.texts):,}-row pool, score the {len(held_out.texts):,} held-out rows",
        "",
        "| N | rest | model accuracy | model macro-F1 | model ECE | lexicon accuracy | lexicon macro-F1 | lexicon ECE | CV accuracy (card) | training s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    rest, rest_gold = held_out.texts, held_out.gold
    lex = lexicon.analyze(rest)
    l_acc, l_f1, l_ece = scored([s.label.value for s in lex], [s.confidence for s in lex], rest_gold)
    for n in SIZES:
        if n > len(pool.texts):
            continue
        texts, gold = pool.texts[:n], pool.gold[:n]
        if min(gold.count(label) for label in set(labelled.gold)) < 10:
            lines.append(f"| {n} | | too few rows of a class in the first {n} | | | | | | | |")
            continue
        started = time.perf_counter()
        artifact = train(texts, gold, seed=0)
        seconds = time.perf_counter() - started
        model = Scorer(artifact, vader=lexicon.vader).analyze(rest)
        m_acc, m_f1, m_ece = scored([s.label.value for s in model], [s.confidence for s in model], rest_gold)
        cv = artifact.card["cross_validation"]["accuracy"]
        lines.append(
            f"| {n:,} | {len(rest):,} | {m_acc:.3f} | {m_f1:.3f} | {m_ece:.3f} | {l_acc:.3f} | {l_f1:.3f} | "
            f"{l_ece:.3f} | {cv:.3f} | {seconds:.1f} |"
        )
        _progress(labelled.name, lines[-1])
    return lines


def pool_draws(labelled: LabelledSet, draws: int = POOL_DRAWS, size: int = POOL_LABELS) -> tuple[list[str], dict]:
    """The tuning protocol's figure for the model `train` makes (see the module's docstring): lines
    of a table, and the per-draw (accuracy, ECE, C) for callers that compare variants draw by draw
    (the draws are the same for every variant: seeded by POOL_SEEDS_FROM + draw)."""
    pool, _ = split(labelled)
    if len(pool.texts) <= size:
        return [f"({labelled.name}: a pool of {len(pool.texts):,} rows has none left to score {size:,} labels on)"], {}
    per_draw = []
    for draw in range(draws):
        order = list(range(len(pool.texts)))
        random.Random(POOL_SEEDS_FROM + draw).shuffle(order)  # noqa: S311 (a reproducible draw)
        chosen, scored_rows = order[:size], order[size:]
        artifact = train([pool.texts[i] for i in chosen], [pool.gold[i] for i in chosen], seed=0)
        answers = Scorer(artifact).analyze([pool.texts[i] for i in scored_rows])
        acc, _, ece = scored(
            [a.label.value for a in answers], [a.confidence for a in answers], [pool.gold[i] for i in scored_rows]
        )
        per_draw.append((acc, ece, artifact.card["regularisation"]["C"]))
        _progress(f"pool {labelled.name}", f"draw {draw}: accuracy {acc:.3f}, ECE {ece:.3f}")

    def mean_se(values: list[float]) -> str:
        se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else float("nan")
        return f"{statistics.mean(values):.3f} ± {se:.3f}"

    lines = [
        f"{labelled.name}: {draws} draws of {size:,} labels from the {len(pool.texts):,}-row pool (seeds "
        f"{POOL_SEEDS_FROM}–{POOL_SEEDS_FROM + draws - 1}), each scored on the pool's other {len(pool.texts) - size:,} "
        f"rows; features version {FEATURES_VERSION}; mean ± standard error over the draws",
        "",
        "| accuracy | ECE | C chosen | accuracy per draw |",
        "|---|---|---|---|",
        f"| {mean_se([d[0] for d in per_draw])} | {mean_se([d[1] for d in per_draw])} | "
        f"{', '.join(f'{d[2]:g}' for d in per_draw)} | {' '.join(f'{d[0]:.3f}' for d in per_draw)} |",
    ]
    return lines, {"draws": per_draw}


def _progress(part: str, line: str) -> None:
    """A finished row on stderr as it comes (a full run takes long on a busy machine)."""
    print(f"[{part}] {line}", file=sys.stderr, flush=True)


def across_domains(sets: list[LabelledSet], lexicon: LexiconAnalyzer) -> list[str]:
    held = {labelled.name: split(labelled) for labelled in sets}
    names = [s.name for s in sets]
    lines = [
        f"Accuracy of a model trained on the row's set (its pool, {CROSS_TRAIN_MAX:,} rows at most) on the "
        "column's held-out rows (the diagonal is in-domain, held out too); last row: the lexicon on the same rows.",
        "",
        "| trained on \\ scored on | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    # Each model scores every set as soon as it is trained (a row at a time: a full run is long).
    for name in names:
        pool = held[name][0]
        n = min(CROSS_TRAIN_MAX, len(pool.texts))
        scorer = Scorer(train(pool.texts[:n], pool.gold[:n], seed=0), vader=lexicon.vader)
        cells = []
        for target in names:
            rows = held[target][1]
            labels = [x.label.value for x in scorer.analyze(rows.texts)]
            cells.append(f"{accuracy(labels, rows.gold):.3f}" + (" (own)" if target == name else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        _progress("across domains", lines[-1])
    lexicon_accuracy = [
        accuracy([x.label.value for x in lexicon.analyze(held[n][1].texts)], held[n][1].gold) for n in names
    ]
    lines.append("| lexicon | " + " | ".join(f"{a:.3f}" for a in lexicon_accuracy) + " |")
    return lines


def student(labelled: LabelledSet, lexicon: LexiconAnalyzer, oracle_accuracy: float) -> list[str]:
    """A model taught by the oracle LLM's labels on the first STUDENT_LABELS items, then auto
    through it over the rest, through the real engine code."""
    from reviewpulse_tools.doubles.fake_model import Oracle
    from reviewpulse_tools.doubles.fake_openai import FakeOpenAI

    pool, held_out = split(labelled)
    teach, rest = pool.texts[:STUDENT_LABELS], held_out.texts
    rest_gold = held_out.gold
    teach_gold = pool.gold[:STUDENT_LABELS]
    oracle = Oracle(dict(zip(labelled.texts, labelled.gold, strict=True)), oracle_accuracy)
    with FakeOpenAI(oracle=oracle) as server:
        engine = llm_engine(server.base_url, "oracle", "fake-sentiment-1")
        taught, _ = llm_labels(engine, teach)
        pairs = [
            (t, label) for t, label in zip(teach, taught, strict=True) if label in ("positive", "negative", "neutral")
        ]
        # Its own version (its digest): scorers are cached per process by (tenant, model, version), and a
        # second set's student under the same name and version was read as the first set's.
        artifact = train([t for t, _ in pairs], [label for _, label in pairs], seed=0)
        artifact = artifact.with_identity("student", artifact.digest())
        models = MemoryModels()
        models.add("quality", artifact)
        llm_only, _ = llm_labels(engine, rest)
        llm_accuracy = accuracy(llm_only, rest_gold)
        taught_right = accuracy(taught, teach_gold)
        model_alone = [s.label.value for s in Scorer(artifact, vader=lexicon.vader).analyze(rest)]
        lines = [
            f"#### {labelled.name}: a student of {len(pairs):,} oracle labels (right {taught_right:.1%} of the "
            f"time), then auto through it on the other {len(rest):,} items",
            "",
            f"The student alone: accuracy {accuracy(model_alone, rest_gold):.3f}; llm-only: {llm_accuracy:.3f}; "
            f"the student's cross-validated accuracy (card): {artifact.card['cross_validation']['accuracy']:.3f}, "
            f"its own auto threshold {artifact.card['auto']['threshold']:.3f}.",
            "",
            "| auto threshold | accuracy | share of llm-only accuracy | items sent to the LLM |",
            "|---|---|---|---|",
        ]
        settings = Settings(openai_api_key="quality", llm_fallback="fail")
        for threshold in (*STUDENT_THRESHOLDS, None):
            options = AnalysisOptions(engine="auto", model_id="student", min_confidence=threshold)
            auto = engine_for(options, EngineParts(settings, lexicon=lexicon, llm=lambda: engine, models=models))
            chunk = auto.answer("quality", dict(enumerate(rest)), options)
            answers = [chunk.answers[n] for n in range(len(rest))]
            labels = [a.sentiment.label.value if isinstance(a, Analysis) else None for a in answers]
            sent = sum(1 for a in answers if not (isinstance(a, Analysis) and a.engine == "model"))
            acc = accuracy(labels, rest_gold)
            name = (
                f"{threshold:.2f}"
                if threshold is not None
                else f"model's own ({artifact.card['auto']['threshold']:.3f})"
            )
            lines.append(f"| {name} | {acc:.3f} | {acc / llm_accuracy:.0%} | {sent / len(rest):.1%} |")
    return lines


def speed(labelled: LabelledSet, lexicon: LexiconAnalyzer, rounds: int = 3) -> list[str]:
    """Characters per CPU second (this process's: other jobs on the machine skew it less) of the
    lexicon and of a model of each features version (features.py), in the same process, `rounds`
    times over: each round the lexicon, then per version a new scorer's first pass (its caches
    cold) and the same texts again (warm). The table gives each rate's best and median of the
    rounds, and the ratios to the same round's lexicon."""
    texts = labelled.texts[1000:]
    chars = sum(map(len, texts))
    artifacts = {
        version: train(
            labelled.texts[:1000], labelled.gold[:1000], seed=0, spec=HashingSpec(version=version)
        ).to_bytes()
        for version in sorted({1, 2, FEATURES_VERSION})
    }
    rates: dict[str, list[float]] = {}
    loads: dict[int, list[float]] = {version: [] for version in artifacts}

    def rate(analyze) -> float:
        started = time.process_time()
        analyze(texts)
        return chars / (time.process_time() - started)

    for _ in range(rounds):
        lexicon_rate = rate(lexicon.analyze)
        rates.setdefault("lexicon", []).append(lexicon_rate)
        for version, data in artifacts.items():
            started = time.perf_counter()
            scorer = Scorer(ModelArtifact.from_bytes(data), vader=lexicon.vader, language=lexicon.language)
            loads[version].append(time.perf_counter() - started)
            for name in ("cold", "warm"):
                rates.setdefault(f"v{version} {name}", []).append(rate(scorer.analyze))
                rates.setdefault(f"v{version} {name} ratio", []).append(rates[f"v{version} {name}"][-1] / lexicon_rate)

    def cell(name: str) -> str:
        return f"{max(rates[name]):,.0f} / {statistics.median(rates[name]):,.0f}"

    def ratio(name: str) -> str:
        return f"{max(rates[name + ' ratio']):.0%} / {statistics.median(rates[name + ' ratio']):.0%}"

    lines = [
        f"On {labelled.name} ({len(texts):,} texts, {chars:,} characters; models of 1,000 rows; {rounds} rounds, "
        "best / median):",
        "",
        "| | characters per CPU second | ÷ the same round's lexicon |",
        "|---|---|---|",
        f"| lexicon (VADER, calibration, language) | {cell('lexicon')} | 100% |",
    ]
    for version in artifacts:
        reading = "VADER's four scores" if version == 1 else "word valences"
        lines += [
            f"| model, features v{version} ({reading}), first pass (caches cold) | {cell(f'v{version} cold')} | "
            f"{ratio(f'v{version} cold')} |",
            f"| model, features v{version}, same texts again (caches warm) | {cell(f'v{version} warm')} | "
            f"{ratio(f'v{version} warm')} |",
        ]
    lines.append("")
    for version, data in artifacts.items():
        lines.append(
            f"Features v{version}: reading the artifact and building its scorer {min(loads[version]) * 1000:.0f} ms "
            f"best, {statistics.median(loads[version]) * 1000:.0f} ms median (wall); artifact {len(data):,} bytes "
            f"({len(data) / 1024 / 1024:.2f} MB)."
        )
    return lines


_TRAIN_10K = """
import json, resource, sys, time
from reviewpulse_tools.bench.labelled_data import read_vader
from pathlib import Path
texts, gold = read_vader(Path(sys.argv[1]))
texts, gold = texts[:{rows}], gold[:{rows}]
from reviewpulse.analysis.models.training import train
started, cpu = time.perf_counter(), time.process_time()
artifact = train(texts, gold, seed=0)
seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({{"rows": len(texts), "seconds": seconds, "cpu_seconds": cpu_seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "bytes": len(artifact.to_bytes()), "cv_accuracy": artifact.card["cross_validation"]["accuracy"]}}))
"""


def training_10k(data_dir: Path) -> list[str]:
    path = data_dir / "vader_icwsm2014" / "movieReviewSnippets_GroundTruth.txt"
    if not path.exists():
        return ["(no movie-review snippets: training on 10,000 rows not measured)"]
    code = _TRAIN_10K.format(rows=TRAIN_10K_ROWS)
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)  # noqa: S603
    found = json.loads(out.stdout.strip().splitlines()[-1])
    return [
        f"Training on {found['rows']:,} rows (the first movie-review snippets), in a fresh interpreter: "
        f"{found['cpu_seconds']:.0f} CPU-s ({found['seconds']:.0f} s wall: the machine's load stretches it), "
        f"peak memory {found['peak_mb']:.0f} MB (the whole process: Python, "
        f"scikit-learn, the data), artifact {found['bytes'] / 1024 / 1024:.2f} MB, CV accuracy {found['cv_accuracy']:.3f}."
    ]


def report(
    data_dir: Path = DEFAULT_DATA_DIR,
    *,
    oracle_accuracy: float = 0.9,
    parts: str = "curves,cross,student,speed,train",
    names: str = "",
    routing_draws: int = 8,
) -> str:
    sets = all_sets(data_dir)
    if names:
        sets = [s for s in sets if s.name in names.split(",")]
    if not sets:
        return f"(no labelled sets under {data_dir}: tenant-model figures skipped)"
    lexicon = LexiconAnalyzer()
    wanted = set(parts.split(","))
    lines = ["## Tenant models (issue 20): learning curves, across domains, the oracle student, speed", ""]
    if "curves" in wanted:
        lines += ["### In-domain learning curves", ""]
        for labelled in sets:
            lines += [*in_domain(labelled, lexicon), ""]
    if "cross" in wanted:
        lines += ["### Across domains", "", *across_domains(sets, lexicon), ""]
    if "student" in wanted:
        lines += ["### The oracle student (no human labels)", ""]
        for labelled in sets:
            if (
                set(labelled.gold) == {"positive", "negative", "neutral"}
                and len(labelled.texts) >= STUDENT_LABELS + MIN_REST
            ):
                if labelled.domain.startswith("tweets"):
                    lines += [*student(labelled, lexicon, oracle_accuracy), ""]
    if "routing" in wanted:
        from reviewpulse_tools.bench.learning_routing import Splits, routing_report

        lines += ["### `auto` through the student, finely (every 1 % sent, every 0.01 of threshold)", ""]
        for labelled in sets:
            if labelled.domain.startswith("tweets") and len(labelled.texts) >= STUDENT_LABELS + MIN_REST:
                lines += [
                    *routing_report(
                        labelled,
                        lexicon,
                        oracle_accuracy,
                        Splits(split, SPLIT_SEED, STUDENT_LABELS),
                        routing_draws,
                        progress=_progress,
                    ),
                    "",
                ]
    if "pool" in wanted:
        lines += ["### Tuning protocol: inside the training pool", ""]
        for labelled in sets:
            lines += [*pool_draws(labelled)[0], ""]
    if "speed" in wanted:
        apple = next((s for s in sets if s.name == "apple/tweets"), sets[0])
        lines += ["### Speed and size", "", *speed(apple, lexicon), ""]
    if "train" in wanted:
        lines += [*training_10k(data_dir), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--oracle-accuracy", type=float, default=0.9)
    parser.add_argument(
        "--parts",
        default="curves,cross,student,speed,train",
        help="also: pool (the tuning protocol's figure), routing (the student's routing curve, finely)",
    )
    parser.add_argument("--sets", default="", help="comma-separated set names (default: all)")
    parser.add_argument(
        "--routing-draws", type=int, default=8, help="draws (splits and oracle seeds) of --parts routing"
    )
    args = parser.parse_args(argv)
    print(
        report(
            args.data,
            oracle_accuracy=args.oracle_accuracy,
            parts=args.parts,
            names=args.sets,
            routing_draws=args.routing_draws,
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
