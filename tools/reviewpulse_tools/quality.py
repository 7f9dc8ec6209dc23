"""Quality report of the lexicon engine on labelled sentences (`make quality`).

Reads tab-separated `sentence<TAB>0|1` files such as the UCI "Sentiment Labelled Sentences" set
(Kotzias et al., KDD 2015). Binary accuracy counts a positive score as 1 and a negative one as
0; texts scored exactly 0 count as wrong, since the engine made no call.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from reviewpulse.analysis.lexicon import LexiconAnalyzer

DEFAULT_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "uci_sentiment_labelled_sentences"


def read_labelled(path: Path) -> list[tuple[str, int]]:
    rows = []
    # Split on "\n" only: the imdb file holds U+0085, which str.splitlines() would break on,
    # and unbalanced quotes, so no csv module either.
    for line in path.read_text(encoding="utf-8").split("\n"):
        if "\t" in line:
            text, label = line.rsplit("\t", 1)
            if label.strip() in ("0", "1"):
                rows.append((text, int(label)))
    return rows


def report(files: list[Path]) -> str:
    analyzer = LexiconAnalyzer()
    lines = [
        "| file | sentences | binary accuracy | labels (pos/neg/neu/mixed) | sentences/s |",
        "|---|---|---|---|---|",
    ]
    for path in files:
        rows = read_labelled(path)
        started = time.perf_counter()
        results = analyzer.analyze([text for text, _ in rows])
        rate = len(rows) / (time.perf_counter() - started)
        correct = sum(
            1
            for (_, gold), r in zip(rows, results, strict=True)
            if (r.score > 0 and gold == 1) or (r.score < 0 and gold == 0)
        )
        labels = Counter(r.label.value for r in results)
        mix = "/".join(str(labels.get(k, 0)) for k in ("positive", "negative", "neutral", "mixed"))
        lines.append(f"| {path.name} | {len(rows)} | {correct / len(rows):.1%} | {mix} | {rate:,.0f} |")
    return "\n".join(lines)


def worst_case() -> str:
    """VADER's known slowdown: one text of 5,000 emoji, scored in bounded windows vs whole."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    flood = "😀😃😄😁" * 1250
    started = time.perf_counter()
    LexiconAnalyzer().analyze_one(flood)
    windowed = time.perf_counter() - started
    started = time.perf_counter()
    SentimentIntensityAnalyzer().polarity_scores(flood)
    whole = time.perf_counter() - started
    return f"5,000 emoji in one text: {windowed:.2f} s in bounded windows, {whole:.2f} s scored whole by VADER"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    files = sorted(args.directory.glob("*_labelled.txt"))
    if not files:
        print(f"no *_labelled.txt files in {args.directory}", file=sys.stderr)
        return 2
    print(report(files))
    print()
    print(worst_case())
    return 0


if __name__ == "__main__":
    sys.exit(main())
