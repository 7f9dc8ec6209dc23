"""Quality report (`make quality`): the lexicon, the LLM and routing between them, on the labelled
sentences in ../shared/data (read as three classes: labelled_data.py).

Per data set it prints the lexicon's accuracy and macro-F1, how often it flags a language it does
not read, its calibration (expected calibration error and a reliability table); then the LLM
engine's accuracy, macro-F1 and tokens; then the `auto` engine itself
(reviewpulse.analysis.engines.auto, through the engine interface) at several thresholds: items
whose calibrated confidence is below the threshold, or that are flagged, go to the LLM, the rest
keep the lexicon's label.

The LLM is the real engine code (reviewpulse.analysis.llm) talking HTTP to:
- ENGINE=oracle (default): the fake OpenAI server in oracle mode, answering each text's gold label
  with --oracle-accuracy (0.9) and a wrong one otherwise;
- ENGINE=llm or auto: the endpoint OPENAI_BASE_URL / OPENAI_API_KEY name (OPENAI_MODEL, default
  gpt-4o-mini), so a user with a key measures the real model on the same data. --limit N keeps
  the first N items per set, to bound what that costs.
A `mixed` or unanswered LLM item counts as wrong: the gold labels are single.

It starts with the personal-data redaction report (bench/pii.py: precision and recall per kind on
a generated labelled corpus), which needs no data files: `--pii-only` prints just that one.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.engines.lexicon import LexiconEngine
from reviewpulse.analysis.engines.registry import engine_for
from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.analysis.sentiment import Analysis, Sentiment
from reviewpulse.settings import Settings

from reviewpulse_tools.bench.calibrate import expected_calibration_error, reliability_table
from reviewpulse_tools.bench.labelled_data import DEFAULT_DATA_DIR, LabelledSet, load_sets

LABELS = ("positive", "negative", "neutral")
THRESHOLDS = (0.5, 0.6, 0.65, 0.7, 0.8, 0.9)
ITEMS_PER_REQUEST = 25


def accuracy(predicted: Sequence[str | None], gold: Sequence[str]) -> float:
    return sum(p == g for p, g in zip(predicted, gold, strict=True)) / (len(gold) or 1)


def macro_f1(predicted: Sequence[str | None], gold: Sequence[str]) -> float:
    """Mean F1 over the gold classes present (UCI has no neutral class, so it averages two)."""
    scores = []
    for label in sorted(set(gold)):
        tp = sum(p == label and g == label for p, g in zip(predicted, gold, strict=True))
        fp = sum(p == label and g != label for p, g in zip(predicted, gold, strict=True))
        fn = sum(p != label and g == label for p, g in zip(predicted, gold, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / (len(scores) or 1)


def llm_engine(base_url: str, api_key: str, model: str):
    """The real LLM engine, against whatever endpoint is named (imported lazily: openai is slow)."""
    import openai
    from reviewpulse.analysis.llm.breaker import CircuitBreaker
    from reviewpulse.analysis.llm.pacing import RequestPacer
    from reviewpulse.analysis.llm.request_engine import LlmEngine

    client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0)
    return LlmEngine(
        lambda: client,
        model=model,
        items_per_request=ITEMS_PER_REQUEST,
        concurrency=4,
        breaker=CircuitBreaker(5, 30.0),
        pacer=RequestPacer(0),
    )


LlmRun = Callable[[list[str]], tuple[list[str | None], int]]


def llm_labels(engine, texts: list[str]) -> tuple[list[str | None], int]:
    """The LLM's label per text (None when unanswered) and the tokens it took."""
    outcome = engine.analyze({str(n): text for n, text in enumerate(texts)})
    labels = [
        outcome.analyses[str(n)].sentiment.label.value if str(n) in outcome.analyses else None
        for n in range(len(texts))
    ]
    return labels, outcome.usage.input_tokens + outcome.usage.output_tokens


AutoRun = Callable[[list[str], float], tuple[list[str | None], int, int]]


def auto_labels(
    engine, analyzer: LexiconAnalyzer, texts: list[str], threshold: float
) -> tuple[list[str | None], int, int]:
    """The auto engine at `threshold`, over this LLM engine: its label per text (None when
    unanswered), how many items it sent to the LLM, and the tokens they took."""
    # A key says an LLM is configured; the fail policy leaves unanswered items unanswered, so they
    # count as wrong here as they do for the llm row.
    settings = Settings(openai_api_key="quality", llm_fallback="fail")
    options = AnalysisOptions(engine="auto", min_confidence=threshold)
    auto = engine_for(options, EngineParts(settings, lexicon=analyzer, llm=lambda: engine))
    chunk = auto.answer("quality", dict(enumerate(texts)), options)
    answers = [chunk.answers[n] for n in range(len(texts))]
    labels = [a.sentiment.label.value if isinstance(a, Analysis) else None for a in answers]
    settled = sum(1 for a in answers if isinstance(a, Analysis) and a.engine == LexiconEngine.name)
    return labels, len(texts) - settled, chunk.usage.input_tokens + chunk.usage.output_tokens


def set_report(
    labelled: LabelledSet, lexicon: list[Sentiment], run_llm: LlmRun, run_auto: AutoRun, thresholds: Sequence[float]
) -> str:
    gold = labelled.gold
    lexicon_labels = [s.label.value for s in lexicon]
    right = [label == g for label, g in zip(lexicon_labels, gold, strict=True)]
    pairs = [(s.confidence, r) for s, r in zip(lexicon, right, strict=True)]
    flagged = sum(s.flag is not None for s in lexicon)
    lines = [
        f"### {labelled.name} ({labelled.domain}, {len(gold)} items; gold {dict(Counter(gold))})",
        "",
        f"Lexicon: languages not read {flagged} ({flagged / len(gold):.1%}); "
        f"expected calibration error {expected_calibration_error(pairs):.3f}",
        "",
        *reliability_table(pairs),
        "",
    ]
    llm_answers, llm_tokens = run_llm(labelled.texts)
    llm_accuracy = accuracy(llm_answers, gold)
    rows = [
        ("lexicon", accuracy(lexicon_labels, gold), macro_f1(lexicon_labels, gold), 0.0, 0),
        ("llm", llm_accuracy, macro_f1(llm_answers, gold), 1.0, llm_tokens),
    ]
    for threshold in thresholds:
        combined, sent, tokens = run_auto(labelled.texts, threshold)
        rows.append(
            (f"auto < {threshold:.2f}", accuracy(combined, gold), macro_f1(combined, gold), sent / len(gold), tokens)
        )
    lines += [
        "| engine | accuracy | macro-F1 | sent to LLM | LLM tokens | accuracy vs llm |",
        "|---|---|---|---|---|---|",
    ]
    for name, acc, f1, share, tokens in rows:
        relative = acc / llm_accuracy if llm_accuracy else 0.0
        lines.append(f"| {name} | {acc:.3f} | {f1:.3f} | {share:.1%} | {tokens:,} | {relative:.0%} |")
    return "\n".join(lines)


def runs(engine, analyzer: LexiconAnalyzer) -> tuple[LlmRun, AutoRun]:
    """The llm engine and the auto engine, both over this LLM engine."""
    return (
        lambda texts: llm_labels(engine, texts),
        lambda texts, threshold: auto_labels(engine, analyzer, texts, threshold),
    )


def worst_case() -> str:
    """VADER's known slowdown: one text of 5,000 emoji, scored by the lexicon (bounded windows)."""
    flood = "😀😃😄😁" * 1250
    analyzer = LexiconAnalyzer()
    started = time.perf_counter()
    analyzer.analyze_one(flood)
    return f"5,000 emoji in one text: {time.perf_counter() - started:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--engine", choices=("oracle", "llm", "auto"), default=os.environ.get("ENGINE") or "oracle")
    parser.add_argument("--oracle-accuracy", type=float, default=0.9)
    parser.add_argument("--limit", type=int, default=None, help="the first N items of each set")
    parser.add_argument("--sets", default="", help="comma-separated set names (default: all)")
    parser.add_argument("--thresholds", default=",".join(map(str, THRESHOLDS)))
    parser.add_argument("--pii-only", action="store_true", help="only the redaction report (no data files needed)")
    parser.add_argument("--no-pii", action="store_true", help="leave out the redaction report")
    args = parser.parse_args(argv)
    if not args.no_pii:
        from reviewpulse_tools.bench.pii import report as pii_report

        text, met = pii_report()
        print(text, end="\n\n")
        if args.pii_only:
            return 0 if met else 1
    sets = load_sets(args.data)
    if args.sets:
        sets = [s for s in sets if s.name in args.sets.split(",")]
    if not sets:
        print(f"no labelled sets under {args.data} (DATA=… names another folder)", file=sys.stderr)
        # The redaction report above needs no data: it stands on its own.
        return 2 if args.no_pii else 0
    thresholds = [float(t) for t in args.thresholds.split(",") if t]
    if args.engine != "oracle" and not (os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_KEY")):
        print("ENGINE=llm/auto needs OPENAI_API_KEY (and OPENAI_BASE_URL for another endpoint)", file=sys.stderr)
        return 2
    analyzer = LexiconAnalyzer()
    describe = (
        f"the fake OpenAI server in oracle mode (right {args.oracle_accuracy:.0%} of the time)"
        if args.engine == "oracle"
        else f"{os.environ.get('OPENAI_BASE_URL') or 'the OpenAI API'}"
    )
    print(f"# Quality report: lexicon, llm and auto; LLM answers from {describe}\n")
    for labelled in sets:
        if args.limit:
            labelled = LabelledSet(
                labelled.name, labelled.domain, labelled.texts[: args.limit], labelled.gold[: args.limit]
            )
        lexicon = analyzer.analyze(labelled.texts)
        if args.engine == "oracle":
            from reviewpulse_tools.doubles.fake_model import Oracle
            from reviewpulse_tools.doubles.fake_openai import FakeOpenAI

            oracle = Oracle(dict(zip(labelled.texts, labelled.gold, strict=True)), args.oracle_accuracy)
            with FakeOpenAI(oracle=oracle) as server:
                engine = llm_engine(server.base_url, "oracle", "fake-sentiment-1")
                print(set_report(labelled, lexicon, *runs(engine, analyzer), thresholds))
        else:
            engine = llm_engine(
                os.environ.get("OPENAI_BASE_URL") or "",
                os.environ.get("OPENAI_API_KEY", ""),
                os.environ.get("OPENAI_MODEL") or "gpt-4o-mini",
            )
            print(set_report(labelled, lexicon, *runs(engine, analyzer), thresholds))
        print()
    if not args.no_pii:
        from reviewpulse_tools.bench.pii import real_text_findings

        print(real_text_findings(sets), end="\n\n")
    print(worst_case())
    return 0


if __name__ == "__main__":
    sys.exit(main())
