"""`make bench BENCH=analyze`: POST /v1/analyze's warm latency for 25 short texts on the lexicon, as
a ratio to the lexicon analyzer alone on the same texts (goal: at most 3x, at p50 and p99).

The function is measured as Lambda runs it once warm: its handler (Mangum, FastAPI, validation,
the use case, the response) answering the API Gateway event, with the authorizer's context already
in the event (API Gateway caches the authorizer's answer for ReauthorizeEvery, 300 s). The
analyzer alone is LexiconAnalyzer.analyze on the same 25 texts. Both alternate, request by
request, so that the machine's drift hits both alike; CPU time of this one-threaded process.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from typing import Any

from reviewpulse_tools.bench.samples import sample_reviews
from reviewpulse_tools.local.template import ROOT

TEXTS = 25
ROUNDS = 400
WARMUP = 20
SHORT_CHARS = 200  # "short": sample reviews of at most this many characters


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_analyze(rounds: int = ROUNDS, warmup: int = WARMUP) -> dict[str, Any]:
    import boto3
    from moto import mock_aws
    from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer

    from reviewpulse_tools.local.lambda_ import FunctionRunner, LambdaContext
    from reviewpulse_tools.local.provision import provision

    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        os.environ[name] = value
    short = [text for text in sample_reviews() if 0 < len(text) <= SHORT_CHARS]
    rnd = random.Random(11)  # noqa: S311 (which texts to send, not a secret)
    event = json.loads((ROOT / "events" / "analyze_texts.json").read_text())
    with mock_aws():
        stack = provision(boto3.Session())
        runner = FunctionRunner(stack)
        handler = runner.module("AnalyzeTextsFunction").handler
        analyzer = LexiconAnalyzer()
        api_times, alone_times = [], []
        for n in range(warmup + rounds):
            texts = rnd.sample(short, TEXTS)
            request = {**event, "body": json.dumps({"texts": texts, "options": {"engine": "lexicon"}})}
            started = time.process_time()
            response = handler(request, LambdaContext(function_name="AnalyzeTextsFunction"))
            api = time.process_time() - started
            if response["statusCode"] != 200:
                raise RuntimeError(f"POST /v1/analyze answered {response['statusCode']}: {response['body'][:300]}")
            answered = len(json.loads(response["body"])["results"])
            if answered != len(texts):
                raise RuntimeError(f"POST /v1/analyze answered {answered} of {len(texts)} texts")
            started = time.process_time()
            analyzer.analyze(texts)
            alone = time.process_time() - started
            if n >= warmup:
                api_times.append(api)
                alone_times.append(alone)
    p50 = (statistics.median(api_times), statistics.median(alone_times))
    p99 = (_quantile(api_times, 0.99), _quantile(alone_times, 0.99))
    return {
        "texts": TEXTS,
        "rounds": rounds,
        "mean_chars": statistics.mean(len(t) for t in short),
        "api_p50_ms": p50[0] * 1000,
        "alone_p50_ms": p50[1] * 1000,
        "api_p99_ms": p99[0] * 1000,
        "alone_p99_ms": p99[1] * 1000,
        "ratio_p50": p50[0] / p50[1],
        "ratio_p99": p99[0] / p99[1],
    }


def report(figures: dict[str, Any]) -> str:
    return (
        f"POST /v1/analyze, {figures['texts']} short texts on the lexicon, warm ({figures['rounds']} requests):\n"
        f"  p50  {figures['api_p50_ms']:.1f} ms vs analyzer alone {figures['alone_p50_ms']:.1f} ms"
        f"  = {figures['ratio_p50']:.2f}x (goal <= 3x)\n"
        f"  p99  {figures['api_p99_ms']:.1f} ms vs analyzer alone {figures['alone_p99_ms']:.1f} ms"
        f"  = {figures['ratio_p99']:.2f}x (goal <= 3x)"
    )
