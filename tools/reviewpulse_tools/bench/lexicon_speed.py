"""`make bench`'s lexicon: characters per CPU second of the lexicon engine by text length."""

from __future__ import annotations

import random
import time

from reviewpulse_tools.bench.samples import sample_reviews

LEXICON_LENGTHS = (100, 500, 1_000, 2_000, 5_000)
LEXICON_CHARS_PER_LENGTH = 300_000


def bench_lexicon(lengths: tuple[int, ...] = LEXICON_LENGTHS, chars: int = LEXICON_CHARS_PER_LENGTH) -> dict:
    """Characters per second of the lexicon engine by text length: texts cut from the project's
    sample reviews, joined until long enough; the same number of characters at every length. CPU
    time of this (single-threaded) process, so that other work on the machine does not skew it."""
    from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer

    analyzer = LexiconAnalyzer()
    reviews = sample_reviews()
    rnd = random.Random(3)  # noqa: S311 - a reproducible sample of texts, not security
    rates = {}
    for length in lengths:
        texts = []
        while len(texts) * length < chars:
            text = ""
            while len(text) < length:
                text += rnd.choice(reviews) + " "
            texts.append(text[:length])
        analyzer.analyze(texts[:20])  # warm up
        started = time.process_time()
        scored = analyzer.analyze(texts)
        elapsed = time.process_time() - started
        if len(scored) != len(texts) or not elapsed:
            raise RuntimeError(f"the lexicon scored {len(scored)} of {len(texts)} texts of {length} characters")
        rates[str(length)] = sum(map(len, texts)) / elapsed
    return {"chars_per_second": rates, "chars_per_length": chars}


def report_lexicon(lexicon: dict) -> str:
    rates = lexicon["chars_per_second"]
    base = rates[min(rates, key=int)]
    return "\n".join(
        [
            "Lexicon engine, characters per CPU second by text length (each text scored once):",
            "",
            "| characters | chars/s | vs shortest |",
            "|---|---|---|",
            *(f"| {int(n):,} | {rate:,.0f} | {rate / base:.0%} |" for n, rate in rates.items()),
        ]
    )


# -- a tenant model against the lexicon on the same texts ----------------------------------------

MODEL_LENGTHS = (100, 1_000)


def bench_model(lengths: tuple[int, ...] = MODEL_LENGTHS, chars: int = LEXICON_CHARS_PER_LENGTH) -> dict:
    """Characters per CPU second of a tenant model's scorer (analysis/models/scorer.py, with the
    language check the analyzer makes) against the lexicon's, on the same texts: the sample
    reviews cut and joined as bench_lexicon does. The model is trained on the sample reviews'
    own star ratings (300 rows; scikit-learn, the training path; one C and two folds, as its speed does not
    depend on C). Per length: the lexicon, the
    model's first pass with a new scorer (its word cache cold) and the same texts again (warm).
    The sample reviews' vocabulary is small (about 2,000 words), so a cold pass warms within its
    first texts: `make quality LEARNING="--parts speed"` measures the cold pass on real tweets."""
    import csv

    from reviewpulse.analysis.labels import LabelScheme
    from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
    from reviewpulse.analysis.models.artifact import ModelArtifact
    from reviewpulse.analysis.models.scorer import Scorer
    from reviewpulse.analysis.models.training import train

    from reviewpulse_tools.bench.samples import SAMPLE

    with SAMPLE.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    stars = LabelScheme("stars")
    texts, gold = [row["review"] for row in rows], [stars.read(row["rating"]).value for row in rows]
    data = train(texts, gold, seed=0, folds=2, c_grid=(1.0,)).to_bytes()
    lexicon = LexiconAnalyzer()
    rnd = random.Random(3)  # noqa: S311 - a reproducible sample of texts, not security
    figures = {}
    for length in lengths:
        batch = []
        while len(batch) * length < chars:
            text = ""
            while len(text) < length:
                text += rnd.choice(texts) + " "
            batch.append(text[:length])
        size = sum(map(len, batch))
        lexicon.analyze(batch[:20])  # warm up (as bench_lexicon)
        rates = {}
        for name in ("lexicon", "model_cold", "model_warm"):
            if name == "model_cold":
                scorer = Scorer(ModelArtifact.from_bytes(data), vader=lexicon.vader, language=lexicon.language)
            analyze = lexicon.analyze if name == "lexicon" else scorer.analyze
            started = time.process_time()
            scored = analyze(batch)
            elapsed = time.process_time() - started
            if len(scored) != len(batch) or not elapsed:
                raise RuntimeError(f"{name} scored {len(scored)} of {len(batch)} texts of {length} characters")
            rates[name] = size / elapsed
        figures[str(length)] = rates
    return {"chars_per_second": figures, "chars_per_length": chars, "bytes": len(data)}


def report_model(model: dict) -> str:
    rows = model["chars_per_second"]
    return "\n".join(
        [
            "A tenant model (trained on the 300 sample reviews' stars) against the lexicon, characters per CPU "
            "second on the same texts:",
            "",
            "| characters | lexicon | model, first pass (cache cold) | model, again (warm) | cold ÷ lexicon | warm ÷ lexicon |",
            "|---|---|---|---|---|---|",
            *(
                f"| {int(n):,} | {r['lexicon']:,.0f} | {r['model_cold']:,.0f} | {r['model_warm']:,.0f} | "
                f"{r['model_cold'] / r['lexicon']:.0%} | {r['model_warm'] / r['lexicon']:.0%} |"
                for n, r in rows.items()
            ),
            "",
            f"Artifact {model['bytes']:,} bytes. The sample reviews' vocabulary is small: a first pass warms "
            'within its first texts (the cold pass on real tweets: `make quality LEARNING="--parts speed"`).',
        ]
    )
