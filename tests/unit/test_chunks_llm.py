"""A chunk on the LLM engine: repeats are sent once, and each item's evidence is its own."""

from __future__ import annotations

from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.engines.registry import engine_for
from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
from reviewpulse.analysis.llm.client import build_engine
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.queues import WorkMessage
from reviewpulse.settings import Settings
from reviewpulse.usecases.analyze_chunk import AnalyzeItems, Answerers, analyze_items
from reviewpulse_tools.doubles.fake_openai import FakeOpenAI


def test_a_repeat_in_another_spacing_is_sent_once_and_keeps_only_evidence_found_in_its_own_text():
    # Given two texts that differ only in spacing, and a third that is different
    texts = ["Great  battery life.", "Great battery life.", "The screen cracked."]
    items = [{"row": n, "id": f"r{n}", "text": text} for n, text in enumerate(texts, start=1)]
    message = WorkMessage(tenant="acme", task_id="a" * 28, chunk=0, items=items)
    with FakeOpenAI() as server:
        engine = build_engine(Settings(openai_api_key="test", openai_base_url=server.base_url, llm_max_retries=0))
        # When the chunk is analysed with the aspect "battery"
        options = AnalysisOptions(engine="llm", aspects=["battery"])
        parts = EngineParts(Settings(openai_api_key="test"), lexicon=LexiconAnalyzer(), llm=lambda: engine)
        results, usage = analyze_items(AnalyzeItems(message, options), Answerers(engine_for(options, parts)))
        # Then one request carried the two distinct texts only
        assert server.stats().item_counts == [2]
    assert (usage.requests, usage.cached_items) == (1, 1)
    # And both spacings got the same verdict, but the quote only where it occurs verbatim
    first, second, third = results
    assert (first.label, first.score) == (second.label, second.score)
    assert first.aspects[0].evidence == "Great  battery life."
    assert second.aspects[0].label == first.aspects[0].label and second.aspects[0].evidence is None
    assert third.aspects[0].label == "not_mentioned" and third.aspects[0].evidence is None
    for result, text in zip(results, texts, strict=True):
        assert all(a.evidence is None or a.evidence in text for a in result.aspects)
