"""Redaction in the LLM engine, over real HTTP to the fake OpenAI server: what the server receives,
and how quotes, themes and the executive summary that come back are checked against the original.

Where a test needs the model to misbehave (quote a wrong placeholder, name personal data in a
theme or the summary), it swaps the fake's model answer, as tests/unit/test_llm_engine.py does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from reviewpulse.analysis.llm.prompt import ItemVerdict, batch_messages, sentiment_request, to_analysis
from reviewpulse.privacy import redact

from tests.unit.test_llm_engine import engine_for, server  # noqa: F401 - the fake server fixture

EMAIL = "ann.lee@example.com"
PHONE = "+44 20 7946 0123"
TEXT = f"The support team never answered {EMAIL}. The battery is great. Call {PHONE} if needed."


def bodies(fake) -> str:
    """What the server received in its requests' user messages (the system prompt names an example
    placeholder of its own)."""
    return "".join(
        message["content"]
        for body in fake.stats().bodies
        for message in json.loads(body)["messages"]
        if message["role"] == "user"
    )


def test_the_server_receives_placeholders_and_the_quote_comes_back_as_the_original(server):  # noqa: F811
    # Given a text with an e-mail address in the sentence about support
    # When it is analysed for the support aspect
    outcome = engine_for(server).analyze({"a": TEXT}, ["support", "battery"])
    # Then the request held typed placeholders, not the values
    sent = bodies(server)
    assert "[EMAIL_1]" in sent and "[PHONE_1]" in sent
    assert EMAIL not in sent and "7946" not in sent
    # And the model's quote of the redacted sentence is shown as the original sentence, verbatim
    evidence = {a.aspect: a.evidence for a in outcome.analyses["a"].aspects}
    assert evidence["support"] == f"The support team never answered {EMAIL}."
    assert evidence["battery"] == "The battery is great."


def test_a_task_allowed_to_send_texts_unredacted_sends_them_as_written(server):  # noqa: F811
    engine_for(server).analyze({"a": TEXT}, ["support"], redact_pii=False)
    sent = bodies(server)
    assert EMAIL in sent and "[EMAIL_1]" not in sent


def swap_answer(monkeypatch, server, change) -> None:  # noqa: F811
    """Make the fake's model answer as it would, then pass the answer through `change`."""
    analyze = server._model.analyze

    def changed(item_id: str, text: str, aspects: list[str], themes: bool) -> dict[str, Any]:
        return change(analyze(item_id, text, aspects, themes))

    monkeypatch.setattr(server._model, "analyze", changed)


def test_a_quote_whose_placeholder_gives_no_verbatim_original_is_dropped_and_its_label_kept(server, monkeypatch):  # noqa: F811
    # Given a model that quotes a placeholder the text never had, and one it altered around
    def misquote(answer: dict[str, Any]) -> dict[str, Any]:
        for aspect in answer["aspects"]:
            if aspect["aspect"] == "support":
                aspect["evidence"] = "never answered [EMAIL_2]"
            if aspect["aspect"] == "battery":
                aspect["evidence"] = "[PHONE_1] is great"
        return answer

    swap_answer(monkeypatch, server, misquote)
    # When analysed
    outcome = engine_for(server).analyze({"a": TEXT}, ["support", "battery"])
    # Then neither quote is shown, and both labels are
    aspects = {a.aspect: a for a in outcome.analyses["a"].aspects}
    assert (aspects["support"].evidence, aspects["battery"].evidence) == (None, None)
    assert aspects["support"].label != "not_mentioned" and aspects["battery"].label != "not_mentioned"


def test_themes_holding_placeholders_or_personal_data_are_dropped(server, monkeypatch):  # noqa: F811
    # Given a model that names, among its themes, a placeholder, the value behind it, and a new card number
    def leaky_themes(answer: dict[str, Any]) -> dict[str, Any]:
        answer["themes"] = [
            {"theme": "no reply to [EMAIL_1]", "polarity": "complaint"},
            {"theme": f"no reply to {EMAIL.upper()}", "polarity": "complaint"},
            {"theme": "charged 4111 1111 1111 1111", "polarity": "complaint"},
            {"theme": "battery life", "polarity": "praise"},
        ]
        return answer

    swap_answer(monkeypatch, server, leaky_themes)
    # When analysed with themes
    outcome = engine_for(server).analyze({"a": TEXT}, [], themes=True)
    # Then only the theme without personal data is kept
    assert [(t.theme, t.polarity) for t in outcome.analyses["a"].themes] == [("battery life", "praise")]


FACTS = (
    '{"analysed": 4, "counts": {"positive": 3, "negative": 1}, "mean_score": 0.4, "themes": ['
    '{"theme": "slow delivery", "polarity": "complaint", "count": 3}, '
    '{"theme": "refunds to ann.lee@example.com", "polarity": "complaint", "count": 1}]}'
)


def test_the_executive_summary_request_is_redacted(server):  # noqa: F811
    # Given facts whose theme phrases (taken from the texts) hold an e-mail address
    # When a summary is asked for
    text, _ = engine_for(server).summarize(FACTS)
    # Then the server saw a placeholder, and the summary (naming the top complaint only) is used
    sent = bodies(server)
    assert "[EMAIL_1]" in sent and EMAIL not in sent
    assert text and "slow delivery" in text


@pytest.mark.parametrize("leak", ["[EMAIL_1]", EMAIL, "call 020 7946 0123"])
def test_an_executive_summary_naming_personal_data_is_not_used(server, monkeypatch, leak):  # noqa: F811
    # Given a model whose summary names a placeholder, the value behind it, or a phone number
    monkeypatch.setattr(server._model, "batch_report", lambda report: {"summary": f"Mostly happy; {leak}."})
    # When the summary is asked for
    text, usage = engine_for(server).summarize(FACTS)
    # Then there is none (the report falls back to the template's), and the request is still paid for
    assert text is None
    assert usage.requests == 1


# ---------------------------------------------------------------- the prompt functions on their own


def test_every_way_of_building_a_request_redacts_by_default():
    # The request of the synchronous engine and the bare messages (what a Batch API line is built from)
    request = sentiment_request([("1", TEXT)], ["support"], False)
    messages = batch_messages([("1", TEXT)], ["support"], False)
    for content in (request.messages[1]["content"], messages[1]["content"]):
        assert EMAIL not in content and "[EMAIL_1]" in content
    assert request.redactions["1"] == redact(TEXT)


def test_an_answer_mapped_without_its_redaction_keeps_no_placeholder_quote_or_theme():
    # Given a verdict quoting a placeholder and naming one in a theme, mapped without the redaction
    verdict = ItemVerdict.model_validate(
        {
            "id": "1",
            "label": "negative",
            "score": -0.5,
            "confidence": 0.8,
            "language": "en",
            "aspects": [{"aspect": "support", "label": "negative", "evidence": "never answered [EMAIL_1]."}],
            "themes": [{"theme": "[EMAIL_1] ignored", "polarity": "complaint"}],
        }
    )
    # When mapped (as a caller that kept no redaction would)
    analysis = to_analysis(verdict, TEXT, ["support"], True)
    # Then the quote is dropped (it does not occur in the text), the label kept, the theme dropped
    assert [(a.label, a.evidence) for a in analysis.aspects] == [("negative", None)]
    assert analysis.themes == ()
    # And with the redaction the same quote maps back to the original
    restored = to_analysis(verdict, TEXT, ["support"], True, redact(TEXT))
    assert restored.aspects[0].evidence == f"never answered {EMAIL}."
