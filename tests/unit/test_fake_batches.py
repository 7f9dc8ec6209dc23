"""The fake server's Files and Batch APIs, through the real openai client: what Batch API mode's
tests rely on (answers as the chat endpoint gives them, per-request failures, expiry part-way,
cancellation, delay)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest
from reviewpulse.analysis.llm.batch_requests import request_line
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse_tools.doubles.fake_openai import FakeOpenAI

TEXTS = ["I love it", "Awful, it broke", "Fine I guess", "Great value", "Terrible support"]


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def client(server: FakeOpenAI) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0) as sdk:
        yield sdk


def start(client: openai.OpenAI, n: int) -> str:
    lines = [request_line(f"req-{i}", "fake-sentiment-1", [TEXTS[i % len(TEXTS)]], AnalysisOptions()) for i in range(n)]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    uploaded = client.files.create(file=("requests.jsonl", data, "application/jsonl"), purpose="batch")
    return client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h").id


def lines_of(client: openai.OpenAI, file_id: str | None) -> list[dict]:
    if file_id is None:
        return []
    return [json.loads(line) for line in client.files.content(file_id).text.splitlines() if line]


def test_a_batch_answers_every_request_as_the_chat_endpoint_would(server, client):
    # Given a batch of five requests
    batch_id = start(client, 5)

    # When it is retrieved (no delay: it has run)
    batch = client.batches.retrieve(batch_id)

    # Then it completed, every custom_id has a 200 answer with its usage, and no error file exists
    assert (batch.status, batch.request_counts.total, batch.request_counts.completed) == ("completed", 5, 5)
    assert batch.error_file_id is None
    outputs = lines_of(client, batch.output_file_id)
    assert [line["custom_id"] for line in outputs] == [f"req-{i}" for i in range(5)]
    bodies = [line["response"]["body"] for line in outputs]
    assert all(line["response"]["status_code"] == 200 for line in outputs)
    assert [json.loads(b["choices"][0]["message"]["content"])["items"][0]["id"] for b in bodies] == ["1"] * 5
    stats = server.batches.snapshot()
    assert (stats.answered, stats.prompt_tokens) == (5, sum(b["usage"]["prompt_tokens"] for b in bodies))
    # And the chat endpoint's own stats saw none of it
    assert server.stats().requests == 0


def test_a_delayed_batch_is_in_progress_until_its_time(server, client):
    server.batches.configure({"delay": 3600})
    batch_id = start(client, 2)
    assert client.batches.retrieve(batch_id).status == "in_progress"
    assert server.batches.snapshot().requests == 0


def test_failed_requests_land_in_the_error_file_at_the_configured_rate(server, client):
    # Given a provider failing 30% of requests
    server.batches.configure({"failure_rate": 0.3, "seed": 7})

    # When a batch of 200 requests runs
    batch = client.batches.retrieve(start(client, 200))

    # Then roughly that share failed with a 500, the others were answered, and nothing is lost
    errors, outputs = lines_of(client, batch.error_file_id), lines_of(client, batch.output_file_id)
    assert 40 <= len(errors) <= 80
    assert {line["response"]["status_code"] for line in errors} == {500}
    assert len(errors) + len(outputs) == 200 == batch.request_counts.total
    assert {line["custom_id"] for line in errors}.isdisjoint(line["custom_id"] for line in outputs)


@pytest.mark.parametrize(
    ("plan", "status", "code"), [("expire", "expired", "batch_expired"), ("cancel", "cancelled", "batch_cancelled")]
)
def test_a_batch_that_expires_or_is_cancelled_answers_its_first_share(server, client, plan, status, code):
    # Given the next batch expires (or is cancelled by the provider) with 40% answered
    server.batches.configure({plan: 1, "partial": 0.4})

    # When a batch of ten runs, and then another
    first = client.batches.retrieve(start(client, 10))
    second = client.batches.retrieve(start(client, 10))

    # Then the first ended so with four answers and six unrun requests; the second is whole
    assert (first.status, first.request_counts.completed, first.request_counts.failed) == (status, 4, 6)
    unrun = lines_of(client, first.error_file_id)
    assert [line["error"]["code"] for line in unrun] == [code] * 6 and all(line["response"] is None for line in unrun)
    assert (second.status, second.request_counts.completed) == ("completed", 10)


def test_cancelling_through_the_api_keeps_what_ran(server, client):
    server.batches.configure({"delay": 3600, "partial": 0.5})
    batch_id = start(client, 4)
    cancelled = client.batches.cancel(batch_id)
    assert cancelled.status == "cancelled" and cancelled.request_counts.completed == 2
    assert server.batches.snapshot().cancels == 1


def test_a_whole_batch_can_fail(server, client):
    server.batches.configure({"fail": 1})
    batch = client.batches.retrieve(start(client, 3))
    assert (batch.status, batch.output_file_id, batch.error_file_id) == ("failed", None, None)


def test_bad_calls_and_settings_are_refused(server, client):
    with pytest.raises(openai.BadRequestError):
        client.files.create(file=("x.jsonl", b"{}", "application/jsonl"), purpose="fine-tune")
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_nope")
    with pytest.raises(openai.NotFoundError):
        client.batches.create(input_file_id="file-nope", endpoint="/v1/chat/completions", completion_window="24h")
    for settings in ({"failure_rate": 2}, {"expire": -1}, {"delay": "soon"}, {"colour": 1}):
        with pytest.raises(ValueError):
            server.batches.configure(settings)
    with pytest.raises(ValueError):
        server.control({"batches": {"partial": 1.5}})
