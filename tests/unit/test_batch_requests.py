"""Batch API mode's pure parts: request lines built by the synchronous engine's prompt code,
answers held to its checks, the Batch API's share of a cost at the batch price, and the splitter
holding chunks back until it knows whether a file goes to the Batch API."""

from __future__ import annotations

import json

import pytest
from reviewpulse.analysis.llm.batch_requests import check_answer, completion_parts, request_line
from reviewpulse.analysis.llm.pricing import Prices
from reviewpulse.analysis.llm.prompt import SYSTEM_PROMPT, batch_messages, sentiment_format
from reviewpulse.analysis.options import AnalysisOptions, uses_batch_api
from reviewpulse.analysis.sentiment import Label, Usage
from reviewpulse.ingest.chunking import Chunk
from reviewpulse.usecases.split import hold_until_mode_known

TEXTS = ["The battery is great.", "Awful screen, broke fast."]


def verdict(item_id: str, label: str = "positive") -> dict:
    return {
        "id": item_id,
        "label": label,
        "score": 0.8 if label == "positive" else -0.8,
        "confidence": 0.9,
        "language": "en",
        "aspects": [{"aspect": "battery", "label": label, "evidence": "The battery is great."}],
        "themes": [],
    }


def test_a_request_line_is_the_synchronous_engines_request_under_its_custom_id():
    line = request_line("c3-r0-g1", "gpt-4o-mini", TEXTS, AnalysisOptions(aspects=["battery"], report=True))
    assert (line["custom_id"], line["method"], line["url"]) == ("c3-r0-g1", "POST", "/v1/chat/completions")
    body = line["body"]
    assert body["messages"] == batch_messages([("1", TEXTS[0]), ("2", TEXTS[1])], ["battery"], True)
    assert body["messages"][0]["content"] == SYSTEM_PROMPT
    assert body["response_format"] == sentiment_format() and body["temperature"] == 0
    assert body["model"] == "gpt-4o-mini"


def test_answers_are_held_to_the_exact_ids_sent():
    # Given an answer with the first id once, the second twice, and an id never sent
    content = json.dumps({"items": [verdict("1"), verdict("2"), verdict("2", "negative"), verdict("9")]})

    # When it is checked against the two texts sent
    checked = check_answer(content, "stop", TEXTS, AnalysisOptions(aspects=["battery"]))

    # Then only the first text is answered: the repeated id and the unknown one are dropped
    assert list(checked.by_position) == [0]
    analysis = checked.by_position[0]
    assert analysis.sentiment.label is Label.POSITIVE and analysis.engine == "llm"
    assert analysis.aspects[0].evidence == "The battery is great."


@pytest.mark.parametrize(
    ("content", "finish"),
    [
        (None, None),  # no content
        ('{"items": [oops', "stop"),  # not JSON
        (json.dumps({"items": [verdict("1") | {"label": "great"}]}), "stop"),  # off the schema
        (json.dumps({"items": [verdict("1")]}), "length"),  # truncated
    ],
)
def test_an_answer_that_fails_the_checks_answers_nothing(content, finish):
    assert check_answer(content, finish, TEXTS, AnalysisOptions()).by_position == {}


def test_evidence_not_in_the_text_is_dropped():
    content = json.dumps({"items": [verdict("2", "negative")]})
    checked = check_answer(content, "stop", TEXTS, AnalysisOptions(aspects=["battery"]))
    assert checked.by_position[1].aspects[0].evidence is None


def test_completion_parts_read_a_chat_completion_body_and_nothing_else():
    body = {
        "choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 30},
    }
    assert completion_parts(body) == ("{}", "stop", 120, 30)
    assert completion_parts(None) == (None, None, 0, 0)
    assert completion_parts({"choices": "no", "usage": {"prompt_tokens": -1, "completion_tokens": True}}) == (
        None,
        None,
        0,
        0,
    )


def test_batch_tokens_are_priced_at_the_batch_price_and_the_rest_at_the_full_price():
    prices = Prices(input_per_million=2.0, output_per_million=8.0)
    usage = Usage(
        requests=3,
        input_tokens=3_000_000,
        output_tokens=1_000_000,
        batch_requests=2,
        batch_input_tokens=2_000_000,
        batch_output_tokens=500_000,
    )
    synchronous = prices.cost_usd(1_000_000, 500_000)
    batch = prices.cost_usd(2_000_000, 500_000, batch=True)
    assert prices.usage_cost_usd(usage) == pytest.approx(synchronous + batch)
    assert batch == pytest.approx(prices.cost_usd(2_000_000, 500_000) / 2)


def chunks(sizes: list[int]) -> list[Chunk]:
    return [Chunk(index=n, items=[{"row": i} for i in range(size)]) for n, size in enumerate(sizes)]


@pytest.mark.parametrize(("sizes", "threshold", "chosen"), [([4, 4, 2], 8, True), ([4, 4, 2], 11, False)])
def test_the_splitter_lets_no_chunk_go_before_it_knows_the_mode(sizes, threshold, chosen):
    # Given chunks of a file and a deployment threshold
    events: list[str] = []

    def choose() -> None:
        events.append("batch mode chosen")

    # When the chunks are passed on
    for chunk in hold_until_mode_known(
        iter(chunks(sizes)), lambda n: uses_batch_api(None, items=n, threshold=threshold), choose
    ):
        events.append(f"chunk {chunk.index} sent")

    # Then every chunk goes, in order, and none before batch mode is recorded (when it is)
    sent = [f"chunk {n} sent" for n in range(len(sizes))]
    assert events == (["batch mode chosen", *sent] if chosen else sent)
