"""The engine interface: the registry, routing in the auto engine, and the cache and fallback
wrapped around the LLM, against the fake OpenAI server (labels by VADER) and the real lexicon."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from reviewpulse.analysis.cache import ResultCache
from reviewpulse.analysis.engines.auto import NO_LLM_NOTE
from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.engines.registry import ENGINES, drop_engine, engine_for, engine_named
from reviewpulse.analysis.engines.wrappers import FALLBACK_ENGINE
from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
from reviewpulse.analysis.llm.client import build_engine
from reviewpulse.analysis.options import AnalysisOptions, OptionsRequest
from reviewpulse.analysis.routing import needs_llm
from reviewpulse.analysis.sentiment import Label, Sentiment
from reviewpulse.engine_names import ENGINE_NAMES
from reviewpulse.errors import ValidationFailed
from reviewpulse.queues import WorkItem, WorkMessage
from reviewpulse.settings import Settings
from reviewpulse.usecases.analyze_chunk import AnalyzeItems, Answerers, analyze_items
from reviewpulse.usecases.resolve_options import resolve_options
from reviewpulse_tools.doubles.fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]
# Clear praise and complaints the lexicon is sure of, and texts it is not (a neutral reading of a
# complaint, a lukewarm one, a language it does not read).
TEXTS = [
    "I love the sound, really excellent.",
    "The refund process was a nightmare.",
    "Awful quality, it broke on day one.",
    "The phone is okay I guess.",
    "Lovely colours, my kids adore it.",
    "Le produit est arrivé cassé, très déçu.",
]


@pytest.fixture(scope="module")
def lexicon() -> LexiconAnalyzer:
    return LexiconAnalyzer()


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def llm_settings(fake: FakeOpenAI, **values) -> Settings:
    return Settings(openai_api_key="test", openai_base_url=fake.base_url, llm_max_retries=0, **values)


def parts_for(settings: Settings, lexicon: LexiconAnalyzer, cache: ResultCache | None = None) -> EngineParts:
    engine = build_engine(settings)
    return EngineParts(settings, lexicon=lexicon, llm=lambda: engine, cache=cache)


def message(texts: list[str]) -> WorkMessage:
    items = [WorkItem(row=n, id=f"r{n}", text=text) for n, text in enumerate(texts, start=1)]
    return WorkMessage(tenant="acme", task_id="a" * 28, chunk=0, items=items)


def unsure_rows(lexicon: LexiconAnalyzer, texts: list[str], threshold: float) -> list[int]:
    """Rows the lexicon is unsure of, worked out from its sentiments directly."""
    return [n for n, s in enumerate(lexicon.analyze(texts), start=1) if s.confidence < threshold or s.flag is not None]


def sent_texts(fake: FakeOpenAI) -> list[str]:
    return [text for request in fake.stats().texts for text in request]


# ---------------------------------------------------------------- the registry


def test_every_engine_name_has_its_engine_and_nothing_else_is_registered():
    assert sorted(ENGINES) == sorted(ENGINE_NAMES)
    parts = EngineParts(Settings())
    for name in ENGINE_NAMES:
        assert engine_for(AnalysisOptions(engine=name), parts).name == name


# Comparing an engine's name to decide what to do: `x == "llm"`, `"auto" != x`, `x in ("lexicon", ...)`.
_NAME = r"""["'](?:lexicon|llm|auto)["']"""
_COMPARISON = re.compile(rf"""(?:==|!=|\bin\s*[(\[{{])\s*{_NAME}|{_NAME}\s*(?:==|!=)|\.engine\s*(?:==|!=)""")


def test_no_code_outside_the_engine_registry_compares_engine_names():
    # Given the domain package and the handlers, except the engines' own package
    sources = [
        path
        for folder in ("shared/reviewpulse", "functions")
        for path in (ROOT / folder).rglob("*.py")
        if "analysis/engines" not in path.as_posix()
    ]
    assert len(sources) > 20
    # When each is searched for a comparison with an engine's name
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if _COMPARISON.search(line)
    ]
    # Then there is none
    assert found == []


def test_the_pattern_finds_the_comparisons_it_forbids():
    assert _COMPARISON.search('if options.engine == "llm":')
    assert _COMPARISON.search("x = 1 if 'auto' != name else 2")
    assert _COMPARISON.search('if chosen in ("lexicon", "llm"):')
    assert not _COMPARISON.search('ENGINE = "llm"')


def test_engines_route_their_chunks_by_what_they_call():
    # Given a deployment with an LLM key and one without
    with_llm, without = Settings(openai_api_key="k", llm_chunk_max_items=7, chunk_max_items=70), Settings()
    # Then lexicon chunks go to the lexicon queue, llm and auto chunks to the LLM queue in LLM-sized chunks
    assert [(engine_named(n, EngineParts(with_llm)).uses_llm_queue) for n in ("lexicon", "llm", "auto")] == [
        False,
        True,
        True,
    ]
    assert [engine_named(n, EngineParts(with_llm)).chunk_max_items for n in ("lexicon", "llm", "auto")] == [70, 7, 7]
    # And auto without an LLM is the lexicon: its queue and chunk size, and a note that says so
    auto = engine_named("auto", EngineParts(without))
    assert (auto.uses_llm_queue, auto.chunk_max_items, auto.note()) == (False, without.chunk_max_items, NO_LLM_NOTE)
    assert engine_named("llm", EngineParts(without)).unavailable_reason() is not None


def test_a_drop_gets_the_default_engine_where_it_can_run():
    assert drop_engine(EngineParts(Settings(default_engine="auto"))).name == "auto"
    assert drop_engine(EngineParts(Settings(default_engine="llm", openai_api_key="k"))).name == "llm"
    assert drop_engine(EngineParts(Settings(default_engine="llm"))).name == "lexicon"


def test_min_confidence_is_kept_on_auto_tasks_and_refused_for_others():
    settings = Settings(openai_api_key="k", auto_min_confidence=0.65)
    assert resolve_options(OptionsRequest(engine="auto"), settings).min_confidence == 0.65
    assert resolve_options(OptionsRequest(engine="auto", min_confidence=0.9), settings).min_confidence == 0.9
    assert resolve_options(OptionsRequest(), Settings(default_engine="auto")).engine == "auto"
    for engine in ("lexicon", "llm"):
        assert resolve_options(OptionsRequest(engine=engine), settings).min_confidence is None
        with pytest.raises(ValidationFailed):
            resolve_options(OptionsRequest(engine=engine, min_confidence=0.5), settings)


# ---------------------------------------------------------------- routing


@pytest.mark.parametrize(
    ("confidence", "flag", "threshold", "expected"),
    [
        (0.69, None, 0.7, True),
        (0.7, None, 0.7, False),
        (0.95, None, 0.7, False),
        (0.95, "language_not_read", 0.7, True),
        (0.0, None, 0.0, False),
        (0.99, None, 1.0, True),
    ],
)
def test_an_item_goes_to_the_llm_below_the_threshold_or_when_flagged(confidence, flag, threshold, expected):
    sentiment = Sentiment(Label.POSITIVE, 0.5, confidence, "en", flag)
    assert needs_llm(sentiment, threshold) is expected


@pytest.mark.parametrize("threshold", [0.0, 0.85, 1.0])
def test_auto_sends_exactly_the_items_the_lexicon_is_unsure_of(fake, lexicon, threshold):
    # Given a chunk of sure and unsure texts, and the auto engine at this threshold
    options = AnalysisOptions(engine="auto", min_confidence=threshold)
    engine = engine_for(options, parts_for(llm_settings(fake), lexicon))
    routed = unsure_rows(lexicon, TEXTS, threshold)

    # When the chunk is analysed
    results, usage = analyze_items(AnalyzeItems(message(TEXTS), options), Answerers(engine))

    # Then exactly the unsure texts reached the LLM, and their results say so
    assert sorted(sent_texts(fake)) == sorted(TEXTS[n - 1] for n in routed)
    assert [r.engine for r in results] == ["llm" if r.row in routed else "lexicon" for r in results]
    # And every row has a result, in order, and the tokens are the server's count
    assert [r.row for r in results] == list(range(1, len(TEXTS) + 1)) and all(r.error is None for r in results)
    stats = fake.stats()
    assert (usage.requests, usage.input_tokens, usage.output_tokens) == (
        stats.requests,
        stats.prompt_tokens,
        stats.completion_tokens,
    )
    # And the items the lexicon settled keep its own verdict
    for result, sentiment in zip(results, lexicon.analyze(TEXTS), strict=True):
        if result.engine == "lexicon":
            assert (result.label, result.confidence) == (sentiment.label.value, sentiment.confidence)


def test_the_threshold_splits_the_example_both_ways():
    # (guards the parametrised test above: at 0.85 some rows go each way, at 0 only the flagged one)
    lexicon = LexiconAnalyzer()
    assert 0 < len(unsure_rows(lexicon, TEXTS, 0.85)) < len(TEXTS)
    assert unsure_rows(lexicon, TEXTS, 0.0) == [TEXTS.index("Le produit est arrivé cassé, très déçu.") + 1]


def test_auto_without_an_llm_is_the_lexicon(lexicon):
    # Given a deployment without an LLM key (an LLM factory that must not be called)
    def no_llm():
        raise AssertionError("auto without a key must not build the LLM engine")

    options = AnalysisOptions(engine="auto", min_confidence=1.0)
    engine = engine_for(options, EngineParts(Settings(), lexicon=lexicon, llm=no_llm))
    # When a chunk of which every item is unsure is analysed
    results, usage = analyze_items(AnalyzeItems(message(TEXTS), options), Answerers(engine))
    # Then the lexicon answered every item, for nothing
    assert {r.engine for r in results} == {"lexicon"} and usage.requests == 0
    assert [r.label for r in results] == [s.label.value for s in lexicon.analyze(TEXTS)]


# ---------------------------------------------------------------- fallback and cache wrap auto too


@pytest.mark.parametrize(("policy", "expected"), [("lexicon", FALLBACK_ENGINE), ("fail", None)])
def test_an_llm_outage_under_auto_follows_the_fallback_policy(fake, lexicon, policy, expected):
    # Given an LLM that answers every request with 503
    fake.always = "status:503"
    options = AnalysisOptions(engine="auto", min_confidence=0.85)
    engine = engine_for(options, parts_for(llm_settings(fake, llm_fallback=policy), lexicon))
    routed = unsure_rows(lexicon, TEXTS, 0.85)
    # When a chunk is analysed
    results, _ = analyze_items(AnalyzeItems(message(TEXTS), options), Answerers(engine))
    # Then the items the lexicon settled keep its answer, and the routed ones follow the policy
    for result in results:
        if result.row not in routed:
            assert result.engine == "lexicon"
        elif expected is None:
            assert result.engine is None and result.error.code == "llm-unavailable"
        else:
            assert result.engine == expected and result.error is None
    assert fake.stats().requests > 0


@mock_aws
def test_auto_reads_and_fills_the_result_cache(fake, lexicon):
    # Given a result cache, and a chunk analysed once on auto
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="cache",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    cache = ResultCache("cache", dynamodb, ttl_days=1)
    options = AnalysisOptions(engine="auto", min_confidence=0.85)
    engine = engine_for(options, parts_for(llm_settings(fake), lexicon, cache))
    first, first_usage = analyze_items(AnalyzeItems(message(TEXTS), options), Answerers(engine))
    requests = fake.stats().requests
    assert requests > 0 and first_usage.cached_items == 0

    # When the same texts come again
    second, usage = analyze_items(AnalyzeItems(message(TEXTS), options), Answerers(engine))

    # Then nothing more was sent: the routed items came from the cache, and count as cached
    assert fake.stats().requests == requests
    assert (usage.requests, usage.cached_items) == (0, len(unsure_rows(lexicon, TEXTS, 0.85)))
    assert [(r.engine, r.label) for r in second] == [(r.engine, r.label) for r in first]


# ---------------------------------------------------------------- queue items


def test_a_queue_item_with_neither_text_nor_error_is_an_error_of_its_own():
    item = WorkItem.model_validate({"row": 3, "id": "x"})
    assert (item.text, item.error.code) == (None, "invalid-row")


def test_a_work_message_body_carries_no_empty_fields():
    body = message(["Great"]).body()
    assert (
        body == '{"tenant":"acme","task_id":"' + "a" * 28 + '","chunk":0,"items":[{"row":1,"id":"r1","text":"Great"}]}'
    )
    assert WorkMessage.model_validate_json(body) == message(["Great"])
