"""Calibrate the token estimate (shared/reviewpulse/analysis/llm/estimate.py) against a real
tokenizer: o200k_base, the encoding of OpenAI's gpt-4o family, as npm's `gpt-tokenizer` ships it
(its vocabulary inside the package: nothing downloaded at run time). A dev-time step, never a
runtime dependency:

    npm install --prefix /tmp/tok gpt-tokenizer
    .venv/bin/python -m reviewpulse_tools.bench.tokens --tokenizer /tmp/tok/node_modules/gpt-tokenizer

It builds the exact requests the engine sends for distinct sample reviews (request_groups,
batch_messages, the response schema), counts them as OpenAI's chat framing does (each message's
content plus 3 tokens, 3 more priming the reply; the json_schema response format counted as its
JSON text: OpenAI does not publish how it counts a schema), and the answers the fake server gives
for them, both as indented and as compact JSON. It prints the estimate against the count, and the
constants the counts give (fixed part, tokens per item, characters per
token, answer tokens per item).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

COUNT_JS = """
const {encode} = require(process.argv[2] + '/cjs/encoding/o200k_base');
const texts = JSON.parse(require('fs').readFileSync(process.argv[3], 'utf8'));
process.stdout.write(JSON.stringify(texts.map(t => encode(t).length)));
"""
MESSAGE_TOKENS, REPLY_PRIMING = 3, 3


def count(tokenizer: Path, texts: list[str]) -> list[int]:
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "count.js").write_text(COUNT_JS)
        (Path(work) / "texts.json").write_text(json.dumps(texts))
        command = ["node", str(Path(work) / "count.js"), str(tokenizer.resolve()), str(Path(work) / "texts.json")]
        # Our own script; node from the developer's PATH.
        done = subprocess.run(  # noqa: S603
            command,  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(done.stdout)


def calibrate(tokenizer: Path, reviews: int = 500, items_per_request: int = 25, texts_file: Path | None = None) -> dict:
    from reviewpulse.analysis.llm import estimate
    from reviewpulse.analysis.llm.prompt import batch_messages, request_groups, sentiment_format

    from reviewpulse_tools.bench.samples import sample_reviews
    from reviewpulse_tools.doubles.fake_openai import Model, SentimentRequest

    if texts_file is None:
        samples = sample_reviews()
        texts = {str(n + 1): f"{samples[n % len(samples)]} (#{n + 1})" for n in range(reviews)}
    else:
        # Texts the constants were not fitted on (one a line): how far off the estimate is elsewhere.
        lines = [line.strip() for line in texts_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        texts = {str(n + 1): text for n, text in enumerate(lines[:reviews])}
    groups = list(request_groups(texts, items_per_request))
    schema = json.dumps(sentiment_format())
    model = Model()
    strings: list[str] = [schema]
    requests, answers = [], []
    for group in groups:
        messages = batch_messages(list(group.items()), [], False)
        requests.append((len(strings), len(messages), group))
        strings += [m["content"] for m in messages]
        answer = model.sentiment_batch(SentimentRequest([], False, list(group.items())))
        answers.append((len(strings), len(group)))
        strings += [json.dumps(answer, indent=2, ensure_ascii=False), json.dumps(answer, ensure_ascii=False)]
    text_start = len(strings)
    strings += list(texts.values())
    empty = batch_messages([], [], False)
    base = len(strings)
    strings += [m["content"] for m in empty] + ['{\n  "items": []\n}', '{"items": []}']
    counts = count(tokenizer, strings)
    schema_tokens = counts[0]
    fixed = sum(counts[base : base + len(empty)]) + MESSAGE_TOKENS * len(empty) + REPLY_PRIMING + schema_tokens
    empty_indented, empty_compact = counts[base + len(empty)], counts[base + len(empty) + 1]
    counted_in = estimated_in = 0
    ys = []
    for start, n_messages, group in requests:
        tokens = sum(counts[start : start + n_messages]) + MESSAGE_TOKENS * n_messages + REPLY_PRIMING + schema_tokens
        counted_in += tokens
        guess = estimate.estimate_request(list(group.values()), [], False)
        estimated_in += guess.input_tokens
        ys.append(tokens - fixed)
    # Each review alone gives the characters per token of the prose; what a request holds beyond its
    # fixed part and its texts' own tokens is the JSON around each item (ids, keys, quotes, escapes).
    text_tokens = counts[text_start : text_start + len(texts)]
    chars_per_token = sum(map(len, texts.values())) / sum(text_tokens)
    per_item = (sum(ys) - sum(text_tokens)) / len(texts)
    out = {}
    for kind, offset, empty_tokens in (("indented", 0, empty_indented), ("compact", 1, empty_compact)):
        counted = sum(counts[start + offset] for start, _ in answers)
        items = sum(n for _, n in answers)
        out[kind] = {
            "counted": counted,
            "per_item": (counted - empty_tokens * len(answers)) / items,
            "overhead": empty_tokens,
        }
    estimated_out = sum(estimate.estimate_request(list(g.values()), [], False).output_tokens for g in groups)
    return {
        "reviews": len(texts),
        "texts": texts_file.name if texts_file else "distinct sample reviews",
        "requests": len(groups),
        "fixed_counted": fixed,
        "fixed_estimated": estimate.request_overhead_tokens(),
        "schema_tokens": schema_tokens,
        "input_counted": counted_in,
        "input_estimated": estimated_in,
        "input_error": estimated_in / counted_in - 1,
        "fit_item_tokens": per_item,
        "fit_chars_per_token": chars_per_token,
        "output_estimated": estimated_out,
        "output": out,
        "constants": {
            "PROMPT_CHARS_PER_TOKEN": estimate.PROMPT_CHARS_PER_TOKEN,
            "ITEM_OVERHEAD_TOKENS": estimate.ITEM_OVERHEAD_TOKENS,
            "CHARS_PER_TOKEN": estimate.CHARS_PER_TOKEN,
            "OUTPUT_TOKENS_PER_ITEM": estimate.OUTPUT_TOKENS_PER_ITEM,
        },
    }


def report(f: dict) -> str:
    o = f["output"]
    return "\n".join(
        [
            f"**Token estimate against o200k_base** ({f['reviews']} texts, {f['texts']}, in {f['requests']} requests):",
            "",
            "| figure | estimate | counted | error |",
            "|---|---|---|---|",
            f"| fixed part of a request (prompt, schema {f['schema_tokens']} tokens, framing) | {f['fixed_estimated']} "
            f"| {f['fixed_counted']} | {f['fixed_estimated'] / f['fixed_counted'] - 1:+.1%} |",
            f"| input tokens, all requests | {f['input_estimated']:,} | {f['input_counted']:,} | {f['input_error']:+.1%} |",
            f"| output tokens, indented JSON answers | {f['output_estimated']:,} | {o['indented']['counted']:,} "
            f"| {f['output_estimated'] / o['indented']['counted'] - 1:+.1%} |",
            f"| output tokens, compact JSON answers | {f['output_estimated']:,} | {o['compact']['counted']:,} "
            f"| {f['output_estimated'] / o['compact']['counted'] - 1:+.1%} |",
            "",
            f"Counted: {f['fit_item_tokens']:.2f} tokens of JSON per item and {f['fit_chars_per_token']:.2f} characters"
            f" per token of review text (the estimate uses {f['constants']['ITEM_OVERHEAD_TOKENS']} and"
            f" {f['constants']['CHARS_PER_TOKEN']}); answers {o['indented']['per_item']:.1f} tokens per item indented,"
            f" {o['compact']['per_item']:.1f} compact (the estimate uses {f['constants']['OUTPUT_TOKENS_PER_ITEM']}).",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", type=Path, required=True, help="the gpt-tokenizer package's directory")
    parser.add_argument("--reviews", type=int, default=500)
    parser.add_argument("--texts", type=Path, help="count these texts (one a line) instead of the sample reviews")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = calibrate(args.tokenizer, args.reviews, texts_file=args.texts)
    print(report(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
