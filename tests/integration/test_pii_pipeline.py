"""Personal data never reaches the LLM: files and texts with seeded personal data of every kind run
through the API and the whole pipeline under moto (split → LLM work queue → LlmAnalyzeChunkFunction →
finalize with the report), and every request body the fake OpenAI server received is searched for
each seeded value.

The seeded values come from the labelled corpus the quality report uses (bench/pii_corpus.py),
which builds them by their own rules, not with the detectors under test.
"""

from __future__ import annotations

import json

from reviewpulse_tools.bench.pii_corpus import KINDS, corpus

from tests.integration import test_llm_pipeline
from tests.integration.helpers import results_of, upload
from tests.integration.test_llm_pipeline import assert_every_row_once

# The LLM pipeline's fixtures: the fake server configured as the deployment's LLM.
fake, configure, llm = test_llm_pipeline.fake, test_llm_pipeline.configure, test_llm_pipeline.llm

# A text whose aspect sentence holds an e-mail address: the fake quotes the sentence it was sent
# (with the placeholder), and the result must show the original quote.
QUOTED_EMAIL = "jane.doe@example.com"
QUOTED = f"The support team never answered {QUOTED_EMAIL} at all. The price was fair though."


def seeded_documents(size: int = 40) -> tuple[list[str], set[str]]:
    """Texts with personal data (of every kind, at the default size), and the values seeded in them."""
    documents = [d for d in corpus(400, seed=7) if d.spans][:size]
    texts = [d.text for d in documents] + [QUOTED]
    values = {span.value(d.text) for d in documents for span in d.spans} | {QUOTED_EMAIL}
    if size >= 40:
        assert {span.kind for d in documents for span in d.spans} == set(KINDS)
    return texts, values


def jsonl(texts: list[str]) -> bytes:
    return "".join(json.dumps({"id": f"r{n}", "text": t}) + "\n" for n, t in enumerate(texts, start=1)).encode()


def leaked(bodies: list[str], values: set[str]) -> set[str]:
    """Seeded values found in any request body, as written or as JSON escapes them (twice: the user
    message is a JSON text inside the JSON body)."""
    found = set()
    for value in values:
        forms = {value, json.dumps(value)[1:-1], json.dumps(json.dumps(value)[1:-1])[1:-1]}
        if any(form in body for body in bodies for form in forms):
            found.add(value)
    return found


def user_messages(bodies: list[str]) -> str:
    """The user messages of every request (the system prompt names example placeholders itself)."""
    return "".join(m["content"] for body in bodies for m in json.loads(body)["messages"] if m["role"] == "user")


def run(client, poller, texts: list[str], **options) -> tuple[dict, list[dict]]:
    task_id = upload(client, "reviews.jsonl", jsonl(texts), id_field="id", options=options)
    poller.drain()
    return client.call("GET", f"/v1/tasks/{task_id}").json(), results_of(client, task_id)


def test_no_seeded_value_reaches_the_llm_on_the_llm_engine(client, poller, llm):
    # Given reviews and chats holding e-mails, phones, cards, IBANs, IPs, token URLs, SSNs and NINOs
    texts, values = seeded_documents()

    # When they run on the llm engine with aspects and a report
    task, results = run(client, poller, texts, engine="llm", aspects=["support", "price"], report=True)

    # Then every row was answered by the LLM
    assert_every_row_once(task, results, len(texts))
    assert {item["engine"] for item in results} == {"llm"}
    assert task["options"]["redact_pii"] is True
    # And no seeded value is in any request the fake received (chunks and the executive summary)
    bodies = llm.stats().bodies
    assert len(bodies) == llm.stats().requests > 1
    assert leaked(bodies, values) == set()
    # And what was sent carries the typed placeholders in their place
    sent = user_messages(bodies)
    assert all(f"[{kind}_1]" in sent for kind in KINDS)
    # And a quote of a redacted sentence comes back as the original text, verbatim
    quoted = next(item for item in results if item["id"] == f"r{len(texts)}")
    support = next(a for a in quoted["aspects"] if a["aspect"] == "support")
    assert support["evidence"] == f"The support team never answered {QUOTED_EMAIL} at all."
    for item, text in zip(results, texts, strict=True):
        assert all(a.get("evidence") is None or a["evidence"] in text for a in item["aspects"])
        assert all("[" not in theme["theme"] for theme in item.get("themes") or [])
    assert task["report"]["written_by"] == "llm"


def test_no_seeded_value_reaches_the_llm_on_the_auto_engine(client, poller, llm):
    # Given the same texts on auto, with a threshold that sends every item to the LLM
    texts, values = seeded_documents()

    # When the pipeline runs
    task, results = run(client, poller, texts, engine="auto", min_confidence=1.0)

    # Then the LLM answered them, and no seeded value reached it
    assert_every_row_once(task, results, len(texts))
    assert task["answered_by"].get("llm", 0) == len(texts)
    bodies = llm.stats().bodies
    assert bodies and leaked(bodies, values) == set()


def test_a_single_text_is_redacted_too(client, poller, llm):
    # Given one text with a phone number and an e-mail address
    text = "Call me on +44 20 7946 0123 or write to sam.smith@example.org, the refund is late."

    # When it is analysed on the llm engine
    created = client.call("POST", "/v1/tasks", {"text": text, "options": {"engine": "llm"}})
    assert created.status == 202, created.body
    poller.drain()

    # Then the fake saw the placeholders, not the values
    sent = user_messages(llm.stats().bodies)
    assert "[PHONE_1]" in sent and "[EMAIL_1]" in sent
    assert leaked(llm.stats().bodies, {"+44 20 7946 0123", "sam.smith@example.org"}) == set()


def test_a_deployment_that_allows_it_can_send_texts_unredacted(client, poller, llm, configure):
    # Given a deployment with AllowUnredactedLlm=true and a batch asking for redact_pii false
    configure(ALLOW_UNREDACTED_LLM="true")
    texts, values = seeded_documents(8)

    # When it runs on the llm engine
    task, results = run(client, poller, texts, engine="llm", redact_pii=False)

    # Then the task keeps the choice, and the texts reached the LLM as written
    assert_every_row_once(task, results, len(texts))
    assert task["options"]["redact_pii"] is False
    assert leaked(llm.stats().bodies, values) == values
