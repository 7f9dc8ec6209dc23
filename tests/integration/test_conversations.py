"""Chat conversations through the whole batch path: upload → split → analyze (lexicon) → finalize,
then per-message results, conversations.jsonl and the task summary read back through the API."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import requests
from reviewpulse.results.conversations import conversation_label

from tests.integration.helpers import results_of, stored_csv, upload

# Several export shapes in one file: each conversation's keys are looked up on their own.
CONVERSATIONS: list[Any] = [
    {
        "conversation_id": "order-1",
        "messages": [
            {
                "speaker": "customer",
                "text": "This is terrible, my order arrived broken and I am furious",
                "timestamp": "t1",
            },
            {"speaker": "agent", "text": "We will send a replacement today, free of charge", "timestamp": "t2"},
            {"speaker": "customer", "text": "", "timestamp": "t3"},  # an empty message: a per-row error
            {"speaker": "customer", "text": "Thank you so much, that is wonderful, great service!", "timestamp": "t4"},
        ],
    },
    {
        "id": "sharegpt-2",
        "conversations": [
            {"from": "human", "value": "I love the design, it is beautiful"},
            {"from": "gpt", "value": "Noted, I will pass that on to the team"},
            {"from": "human", "value": "But the battery is awful, a horrible and useless product"},
        ],
    },
    {
        "thread_id": "openai-3",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "The app keeps crashing, it is awful"}]},
            {"role": "assistant", "content": "Please update to the latest version"},
            {"content": "Still bad and disappointing"},  # no speaker: counted under "unknown"
        ],
    },
    {"conversation_id": "broken-4", "title": "no messages at all"},
    {"messages": [{"role": "user", "text": "Great, thanks, happy with it"}]},  # no id
]


def expected_messages() -> list[tuple[str, str, int, str | None]]:
    """(row id, conversation id, turn, speaker) per result row, derived from the input above."""
    expected = []
    for position, conversation in enumerate(CONVERSATIONS, start=1):
        conversation_id = next(
            (conversation[k] for k in ("conversation_id", "id", "thread_id") if k in conversation),
            f"conversation-{position}",
        )
        messages = conversation.get("messages") or conversation.get("conversations")
        if not messages:
            expected.append((conversation_id, conversation_id, 0, None))
            continue
        for turn, message in enumerate(messages, start=1):
            speaker = message.get("speaker") or message.get("from") or message.get("role")
            expected.append((f"{conversation_id}#{turn}", conversation_id, turn, speaker))
    return expected


def thirds(scores: list[float]) -> tuple[float, float]:
    size = max(1, len(scores) // 3)
    return sum(scores[:size]) / size, sum(scores[-size:]) / size


@pytest.mark.parametrize(
    ("filename", "content", "options"),
    [
        # Recognised from its content: a .json file whose first item is a conversation
        ("chats.json", json.dumps(CONVERSATIONS).encode(), {}),
        # Declared: JSON Lines, one conversation per line
        ("chats.jsonl", "".join(json.dumps(c) + "\n" for c in CONVERSATIONS).encode(), {"format": "conversations"}),
    ],
    ids=["detected-json", "declared-jsonl"],
)
def test_a_conversations_file_end_to_end(client, poller, s3, bucket, filename, content, options):
    # Given a file of chat conversations, and a plain review file alongside it
    task_id = upload(client, filename, content, **options)
    plain_id = upload(client, "reviews.json", json.dumps(["I love it", "I hate it"]).encode())

    # When the pipeline runs with the default (lexicon) engine
    poller.drain()

    # Then every message comes back once, in order, with its conversation, turn and speaker
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready", task
    items = results_of(client, task_id)
    expected = expected_messages()
    assert [item["row"] for item in items] == list(range(1, len(expected) + 1))
    assert [
        (i["id"], i["conversation"]["conversation_id"], i["conversation"]["turn"], i["conversation"].get("speaker"))
        for i in items
    ] == expected
    assert items[0]["conversation"]["timestamp"] == "t1"
    # And the unusable ones are per-row errors: the empty message, and the conversation without messages
    errors = {item["id"]: item["error"]["code"] for item in items if item.get("error")}
    assert errors == {"order-1#3": "empty-text", "broken-4": "invalid-conversation"}
    analysed = [item for item in items if not item.get("error")]
    assert {item["engine"] for item in analysed} == {"lexicon"}
    assert task["progress"] == {"total": len(expected), "processed": len(analysed), "failed": 2}

    # And the results point at conversations.jsonl, one line per conversation
    page = client.call("GET", f"/v1/tasks/{task_id}/results", query={"limit": "1"}).json()
    assert page["files"]["conversations"].startswith("https://")
    key = f"results/acme/{task_id}/conversations.jsonl"
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    lines = [json.loads(line) for line in body.splitlines()]
    downloaded = requests.get(page["files"]["conversations"], timeout=10)
    assert downloaded.status_code == 200 and downloaded.text == body

    # And each line agrees with that conversation's per-message results
    by_conversation: dict[str, list[dict]] = {}
    for item in items:
        by_conversation.setdefault(item["conversation"]["conversation_id"], []).append(item)
    assert [line["conversation_id"] for line in lines] == list(by_conversation)
    for line in lines:
        own = by_conversation[line["conversation_id"]]
        scores = [item["score"] for item in own if not item.get("error")]
        assert (line["messages"], line["analysed"], line["failed"]) == (len(own), len(scores), len(own) - len(scores))
        if not scores:
            assert line["label"] is None and line["trajectory"] is None and line["speakers"] == {}
            continue
        assert line["mean_score"] == pytest.approx(sum(scores) / len(scores), abs=1e-4)
        assert line["label"] == conversation_label(scores)
        speakers: dict[str, list] = {}
        for item in own:
            tally = speakers.setdefault(item["conversation"].get("speaker") or "unknown", [0, []])
            tally[0] += 1
            if not item.get("error"):
                tally[1].append(item["score"])
        assert set(line["speakers"]) == set(speakers)
        for name, (count, own_scores) in speakers.items():
            assert line["speakers"][name]["messages"] == count
            assert line["speakers"][name]["mean_score"] == pytest.approx(sum(own_scores) / len(own_scores), abs=1e-4)
        start, end = thirds(scores)
        trajectory = line["trajectory"]
        assert trajectory["start_score"] == pytest.approx(start, abs=1e-4)
        assert trajectory["end_score"] == pytest.approx(end, abs=1e-4)
        assert trajectory["change"] == pytest.approx(end - start, abs=1e-4)
        direction = "improving" if end - start >= 0.1 else "worsening" if end - start <= -0.1 else "steady"
        assert trajectory["direction"] == direction
    # And the conversations written to be so read as such
    by_id = {line["conversation_id"]: line for line in lines}
    assert by_id["order-1"]["trajectory"]["direction"] == "improving"
    assert by_id["sharegpt-2"]["label"] == "mixed"
    assert by_id["openai-3"]["label"] == "negative"
    assert by_id["conversation-5"]["label"] == "positive"
    assert set(by_id["openai-3"]["speakers"]) == {"user", "assistant", "unknown"}

    # And the task summary counts the conversations by label and by direction
    summary = task["summary"]["conversations"]
    assert summary["conversations"] == len(lines) == 5
    labels = Counter(line["label"] for line in lines if line["label"])
    directions = Counter(line["trajectory"]["direction"] for line in lines if line["trajectory"])
    assert summary["labels"] == {label: labels[label] for label in ("positive", "negative", "neutral", "mixed")}
    assert summary["directions"] == {d: directions[d] for d in ("improving", "worsening", "steady")}

    # And the CSV keeps the conversation columns, joined to the right rows, then the analysis
    rows = stored_csv(s3, bucket, task_id)
    assert list(rows[0])[:6] == ["conversation_id", "turn", "speaker", "timestamp", "text", "sentiment_label"]
    assert [(r["conversation_id"], r["turn"], r["speaker"]) for r in rows] == [
        (conversation_id, str(turn) if turn else "", speaker or "") for _, conversation_id, turn, speaker in expected
    ]
    assert [r["sentiment_label"] for r in rows] == [item.get("label") or "" for item in items]
    assert rows[0]["text"] == CONVERSATIONS[0]["messages"][0]["text"]

    # And a plain file gets no conversations file and no conversation counts
    plain = client.call("GET", f"/v1/tasks/{plain_id}").json()
    assert plain["status"] == "ready" and plain["summary"]["conversations"] is None
    assert client.call("GET", f"/v1/tasks/{plain_id}/results").json()["files"]["conversations"] is None
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=f"results/acme/{plain_id}/conversations")
