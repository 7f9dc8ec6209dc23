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
