"""The LLM result cache (DynamoDB): a text a tenant has had analysed before is not sent again.

Entries are keyed by the tenant and a hash of the normalised text, the engine, the model, the
prompt version and what was asked (aspects, themes), so a changed prompt or model never serves a
stale answer and one tenant can never read another's. Entries expire after a TTL.
"""

from __future__ import annotations

import hashlib
import json
import time
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from reviewpulse.analysis.sentiment import Analysis, AspectSentiment, Label, Sentiment, ThemeMention

# BatchGetItem takes at most 100 keys a call.
_GET_BATCH = 100
_UNPROCESSED_ROUNDS = 5


def normalise(text: str) -> str:
    """Equal after Unicode compatibility folding and whitespace collapsing: the same text to a model."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def cache_key(
    tenant: str, text: str, *, engine: str, model: str, prompt_version: str, aspects: Sequence[str], themes: bool
) -> str:
    material = json.dumps(
        [normalise(text), engine, model, prompt_version, list(aspects), themes], ensure_ascii=False
    ).encode()
    return f"{tenant}#{hashlib.sha256(material).hexdigest()}"


def to_record(analysis: Analysis) -> dict[str, Any]:
    return {
        "l": analysis.sentiment.label.value,
        "s": str(analysis.sentiment.score),
        "c": str(analysis.sentiment.confidence),
        "e": analysis.engine,
        "g": analysis.language or "",
        "a": [[a.aspect, a.label, a.evidence or ""] for a in analysis.aspects],
        "t": [[t.theme, t.polarity] for t in analysis.themes],
    }


def from_record(record: dict[str, Any]) -> Analysis:
    return Analysis(
        sentiment=Sentiment(label=Label(record["l"]), score=float(record["s"]), confidence=float(record["c"])),
        engine=record["e"],
        language=record["g"] or None,
        aspects=tuple(AspectSentiment(aspect=a, label=lb, evidence=ev or None) for a, lb, ev in record["a"]),
        themes=tuple(ThemeMention(theme=t, polarity=p) for t, p in record["t"]),
    )


class ResultCache:
    def __init__(self, table_name: str, dynamodb: Any, *, ttl_days: int, clock=time.time) -> None:
        self._table = table_name
        self._dynamodb = dynamodb
        self._ttl_seconds = ttl_days * 86_400
        self._clock = clock

    def get_many(self, keys: Iterable[str]) -> dict[str, Analysis]:
        """The cached analyses among `keys` (an expired entry TTL has not yet removed is a miss)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Analysis] = {}
        now = int(self._clock())
        for start in range(0, len(wanted), _GET_BATCH):
            request = {self._table: {"Keys": [{"k": {"S": k}} for k in wanted[start : start + _GET_BATCH]]}}
            for _ in range(_UNPROCESSED_ROUNDS):
                response = self._dynamodb.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    if int(item["x"]["N"]) > now:
                        found[item["k"]["S"]] = from_record(json.loads(item["r"]["S"]))
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            # Keys still unprocessed are misses: their texts are simply analysed again.
        return found

    def erase_tenant(self, tenant: str) -> int:
        """Delete every entry of the tenant (keys start "<tenant>#"); how many. A Scan: the table
        is keyed by hash for lookups, and erasure is rare enough to read it whole."""
        paginator = self._dynamodb.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self._table,
            FilterExpression="begins_with(k, :prefix)",
            ExpressionAttributeValues={":prefix": {"S": f"{tenant}#"}},
            ProjectionExpression="k",
        )
        deleted = 0
        for page in pages:
            for item in page.get("Items", []):
                self._dynamodb.delete_item(TableName=self._table, Key={"k": item["k"]})
                deleted += 1
        return deleted

    def put_many(self, entries: dict[str, Analysis]) -> None:
        expires = int(self._clock()) + self._ttl_seconds
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "k": {"S": key},
                        "r": {"S": json.dumps(to_record(analysis), separators=(",", ":"), ensure_ascii=False)},
                        "x": {"N": str(expires)},
                    }
                }
            }
            for key, analysis in entries.items()
        ]
        for start in range(0, len(requests), 25):  # BatchWriteItem takes 25 a call
            pending = {self._table: requests[start : start + 25]}
            for _ in range(_UNPROCESSED_ROUNDS):
                response = self._dynamodb.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break
            # Entries still unwritten only cost a repeat request later.
