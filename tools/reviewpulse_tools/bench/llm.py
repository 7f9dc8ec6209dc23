"""`make bench` (llm): the LLM engine's figures against the local fake OpenAI-compatible server.

- batching: requests and input tokens for 1,000 distinct reviews at 25 items per request, against
  the one-review-per-request baseline; tokens are the usage the server reports.
- rate: a server that answers in 500 ms and enforces a requests-per-minute cap; throughput
  against what the cap allows, and 429s after the first — once with the cap configured, once
  learnt from the server's first 429.
- cache: a batch where half the texts repeat an earlier batch's; how many texts are sent.
"""

from __future__ import annotations

import time

from reviewpulse_tools.bench.samples import sample_reviews
from reviewpulse_tools.doubles.fake_openai import FakeOpenAI

REVIEWS = 1_000
RATE_CAP_RPM = 600
RATE_LATENCY_S = 0.5
RATE_REQUESTS = 100


def distinct_reviews(count: int) -> list[str]:
    """`count` different texts built from the sample reviews (numbered so none repeats)."""
    texts = sample_reviews()
    return [f"{texts[i % len(texts)]} (order {i + 1})" for i in range(count)]


def _engine(server: FakeOpenAI, **overrides):
    from reviewpulse.analysis.llm.client import build_engine
    from reviewpulse.settings import Settings

    settings = {
        "openai_api_key": "bench",
        "openai_base_url": server.base_url,
        "llm_model": "fake-sentiment-1",
        "llm_max_retries": 5,
        **overrides,
    }
    return build_engine(Settings(**settings))


def bench_batching(reviews: int = REVIEWS) -> dict:
    texts = {str(i): text for i, text in enumerate(distinct_reviews(reviews))}
    figures = {}
    with FakeOpenAI() as server:
        for per_request in (25, 1):
            server.reset()
            engine = _engine(server, llm_items_per_request=per_request, llm_concurrency=8)
            outcome = engine.analyze(texts)
            stats = server.stats()
            _check_answered(outcome, texts, f"{per_request} per request")
            figures[per_request] = {
                "requests": stats.requests,
                "answered": len(outcome.analyses),
                "input_tokens": stats.prompt_tokens,
                "output_tokens": stats.completion_tokens,
                "input_tokens_per_review": stats.prompt_tokens / reviews,
            }
    batched, single = figures[25], figures[1]
    return {
        "reviews": reviews,
        "batched": batched,
        "single": single,
        "input_token_ratio": batched["input_tokens_per_review"] / single["input_tokens_per_review"],
    }


def bench_rate(requests: int = RATE_REQUESTS) -> dict:
    runs = {}
    texts = {str(i): text for i, text in enumerate(distinct_reviews(requests * 25))}
    for label, configured in (("configured", RATE_CAP_RPM), ("learnt from the first 429", 0)):
        with FakeOpenAI(latency=RATE_LATENCY_S, rpm=RATE_CAP_RPM) as server:
            engine = _engine(server, llm_requests_per_minute=configured, llm_concurrency=16)
            started = time.perf_counter()
            outcome = engine.analyze(texts)
            elapsed = time.perf_counter() - started
            stats = server.stats()
        _check_answered(outcome, texts, f"the rate run ({label})")
        assert engine.pacer is not None and engine.pacer.throttled == stats.rate_limited
        successful = stats.by_status.get(200, 0)
        allowed = RATE_CAP_RPM / 60 * elapsed
        runs[label] = {
            "requests": successful,
            "answered": len(outcome.analyses),
            "elapsed_s": elapsed,
            "requests_per_minute": successful / elapsed * 60,
            "share_of_cap": successful / allowed,
            "throttled": stats.rate_limited,
            # 429s to requests sent after the client had seen its first 429 (those already in
            # flight then were sent before anything could be learnt).
            "throttled_after_first": engine.pacer.throttled_after_first,
        }
    return {"cap_rpm": RATE_CAP_RPM, "latency_s": RATE_LATENCY_S, "runs": runs}


def bench_cache(reviews: int = REVIEWS) -> dict:
    import boto3
    from moto import mock_aws
    from reviewpulse.analysis.cache import ResultCache
    from reviewpulse.analysis.engines.base import EngineParts
    from reviewpulse.analysis.engines.registry import engine_for
    from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
    from reviewpulse.analysis.options import AnalysisOptions
    from reviewpulse.queues import WorkMessage
    from reviewpulse.settings import Settings
    from reviewpulse.usecases.analyze_chunk import AnalyzeItems, Answerers, analyze_items

    earlier = distinct_reviews(reviews)
    half = reviews // 2
    fresh = [f"{text} (second batch)" for text in earlier[:half]]
    second = [text for pair in zip(earlier[:half], fresh, strict=True) for text in pair]  # repeats interleaved
    with mock_aws(), FakeOpenAI() as server:
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="cache",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        cache = ResultCache("cache", dynamodb, ttl_days=1)
        engine = _engine(server, llm_concurrency=8)
        options = AnalysisOptions(engine="llm")
        settings = Settings(openai_api_key="bench")  # the engine below is the one the key would build
        llm = engine_for(options, EngineParts(settings, lexicon=LexiconAnalyzer(), llm=lambda: engine, cache=cache))

        def run(texts: list[str]) -> tuple[int, int, int]:
            server.reset()
            items = [{"row": n, "id": str(n), "text": t} for n, t in enumerate(texts, start=1)]
            message = WorkMessage(tenant="bench", task_id="b" * 28, chunk=0, items=items)
            results, usage = analyze_items(AnalyzeItems(message, options), Answerers(llm))
            assert len(results) == len(texts)
            return sum(server.stats().item_counts), server.stats().requests, usage.cached_items

        first_sent, first_requests, _ = run(earlier)
        second_sent, second_requests, cached = run(second)
    # Each text reaches the server once: the first batch whole, then only the second's new half.
    if (first_sent, second_sent + cached) != (reviews, len(second)):
        raise RuntimeError(f"the cache run sent {first_sent} of {reviews}, then {second_sent} + {cached} cached")
    return {
        "first": {"texts": reviews, "sent": first_sent, "requests": first_requests},
        "second": {
            "texts": len(second),
            "new": half,
            "sent": second_sent,
            "requests": second_requests,
            "cached": cached,
        },
    }


def bench_llm(reviews: int = REVIEWS, rate_requests: int = RATE_REQUESTS) -> dict:
    return {"batching": bench_batching(reviews), "rate": bench_rate(rate_requests), "cache": bench_cache(reviews)}


def _check_answered(outcome, texts: dict, run: str) -> None:
    if len(outcome.analyses) != len(texts):
        raise RuntimeError(f"the LLM engine answered {len(outcome.analyses)} of {len(texts)} texts in {run}")


def report(figures: dict) -> list[str]:
    b, r, c = figures["batching"], figures["rate"], figures["cache"]
    lines = [
        "**LLM engine against the local fake OpenAI-compatible server** (`make bench BENCH=llm`; tokens are the usage"
        " the server reports):",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| requests for {b['reviews']:,} reviews at 25 per request | {b['batched']['requests']} | ≤ 40 + retries |",
        f"| … at 1 per request (baseline) | {b['single']['requests']:,} | |",
        f"| input tokens per review, batched | {b['batched']['input_tokens_per_review']:.1f} | |",
        f"| … baseline | {b['single']['input_tokens_per_review']:.1f} | |",
        f"| ratio | {b['input_token_ratio']:.2f}× | ≤ 0.35× |",
    ]
    for label, run in r["runs"].items():
        lines.append(
            f"| throughput, {r['latency_s'] * 1000:.0f} ms latency, cap {r['cap_rpm']} rpm, {label} | "
            f"{run['requests_per_minute']:.0f} rpm = {run['share_of_cap'] * 100:.0f}% of the cap, "
            f"{run['throttled']} × 429, {run['throttled_after_first']} to requests sent after the first came back"
            " | ≥ 80%, 0 after the first |"
        )
    lines += [
        f"| texts sent for a batch of {c['second']['texts']:,} where {c['second']['texts'] - c['second']['new']:,}"
        f" repeat an earlier batch | {c['second']['sent']:,} ({c['second']['requests']} requests;"
        f" {c['second']['cached']:,} answered from the cache) | only the {c['second']['new']:,} new |",
        "",
    ]
    return lines
