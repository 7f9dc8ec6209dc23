"""DynamoDB access for Batch API mode (the ProviderBatchesTable). The only module that knows its shape.

    job = "<tenant>#<task_id>"
    sk  = "task"                         open_shard while any chunk waits (the collector's index),
                                         the collector's lease
    sk  = "chunk#<chunk>"                the chunk's rounds (provider batches) and whether it is counted;
                                         reservation_<n>: round n's reservation against the budgets
    sk  = "answer#<chunk>#<custom_id>"   one request's answer, written once

Every write that matters is conditional: an answer is put only if its custom_id has none, a round
only if that round number is free, so duplicated or concurrent collectors change nothing twice.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from reviewpulse.provider_batches.model import AnswerRecord, ChunkJob, Round, RoundReservation

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
OPEN_SHARDS = 8
TASK_SK = "task"
RESERVATION = "reservation_"


def open_shard(task_id: str) -> str:
    return f"s{int(task_id[-2:], 16) % OPEN_SHARDS}"


def _job(tenant: str, task_id: str) -> str:
    return f"{tenant}#{task_id}"


def _chunk_sk(chunk: int) -> str:
    return f"chunk#{chunk:06d}"


def _answer_prefix(chunk: int) -> str:
    return f"answer#{chunk:06d}#"


def _dump(value: Any) -> dict[str, Any]:
    return _serializer.serialize(json.loads(json.dumps(value), parse_float=Decimal))


def _load(item: dict[str, Any]) -> dict[str, Any]:
    return _plain({k: _deserializer.deserialize(v) for k, v in item.items()})


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _key(tenant: str, task_id: str, sk: str) -> dict[str, Any]:
    return {"job": {"S": _job(tenant, task_id)}, "sk": {"S": sk}}


def _condition_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class ProviderBatchRepository:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._ddb = dynamodb

    # -- tasks waiting on the Batch API --------------------------------------------------------

    def erase_task(self, tenant: str, task_id: str) -> int:
        """Delete every record of one task's Batch API job (its rounds and answers); how many."""
        paginator = self._ddb.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="job = :j",
            ExpressionAttributeValues={":j": _dump(_job(tenant, task_id))},
            ProjectionExpression="job, sk",
        )
        deleted = 0
        for page in pages:
            for item in page.get("Items", []):
                self._ddb.delete_item(TableName=self._table, Key={"job": item["job"], "sk": item["sk"]})
                deleted += 1
        return deleted

    def open_task(self, tenant: str, task_id: str, *, expires_at: int | None) -> None:
        """List the task for the collector (idempotent)."""
        values = {":t": _dump(tenant), ":id": _dump(task_id), ":shard": _dump(open_shard(task_id))}
        expression = "SET tenant = :t, task_id = :id, open_shard = :shard"
        if expires_at is not None:
            expression += ", expires_at = :x"
            values[":x"] = _dump(expires_at)
        self._ddb.update_item(
            TableName=self._table,
            Key=_key(tenant, task_id, TASK_SK),
            UpdateExpression=expression,
            ExpressionAttributeValues=values,
        )

    def open_tasks(self, shard: str) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "open",
            "KeyConditionExpression": "open_shard = :shard",
            "ExpressionAttributeValues": {":shard": _dump(shard)},
        }
        while True:
            response = self._ddb.query(**query)
            for item in response.get("Items", []):
                raw = _load(item)
                found.append((raw["tenant"], raw["task_id"]))
            if "LastEvaluatedKey" not in response:
                return found
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def lease(self, tenant: str, task_id: str, *, owner: str, now: float, seconds: float) -> bool:
        """Take the task for one collector run; False while another collector's lease holds."""
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=_key(tenant, task_id, TASK_SK),
                UpdateExpression="SET lease_owner = :me, lease_until = :until",
                ConditionExpression="attribute_exists(job) AND (attribute_not_exists(lease_until) OR lease_until < :now)",
                ExpressionAttributeValues={
                    ":me": _dump(owner),
                    ":until": _dump(int(now + seconds)),
                    ":now": _dump(int(now)),
                },
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def release(self, tenant: str, task_id: str, *, owner: str, closed: bool) -> None:
        """Give the lease back; `closed`: no chunk of the task waits any more (off the index)."""
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=_key(tenant, task_id, TASK_SK),
                UpdateExpression="REMOVE lease_owner, lease_until" + (", open_shard" if closed else ""),
                ConditionExpression="lease_owner = :me",
                ExpressionAttributeValues={":me": _dump(owner)},
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise

    # -- chunks --------------------------------------------------------------------------------

    def add_chunk(self, tenant: str, task_id: str, chunk: int, *, expires_at: int | None) -> bool:
        """The chunk waits for the Batch API; False if it already did (a redelivered message)."""
        item = {"job": _job(tenant, task_id), "sk": _chunk_sk(chunk), "chunk": chunk, "counted": False, "rounds": {}}
        if expires_at is not None:
            item["expires_at"] = expires_at
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={k: _dump(v) for k, v in item.items()},
                ConditionExpression="attribute_not_exists(sk)",
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def chunks(self, tenant: str, task_id: str) -> list[ChunkJob]:
        jobs = []
        for raw in self._query(tenant, task_id, "chunk#"):
            # One top-level attribute per round's reservation: a conditional write per round needs
            # no map to exist first (chunks listed before budgets applied to batch mode have none).
            raw["reservations"] = {k[len(RESERVATION) :]: v for k, v in raw.items() if k.startswith(RESERVATION)}
            jobs.append(ChunkJob.model_validate(raw))
        return jobs

    # -- spend: each round reserved once before it is submitted, settled once when it ended ------

    def reserve_round(
        self, tenant: str, task_id: str, chunk: int, number: int, reservation: RoundReservation, ledger: list[dict]
    ) -> str:
        """Write round `number`'s reservation and the budgets' `ledger` updates (their conditional
        ADDs) in one transaction: "reserved"; "exists" if the round was reserved (or submitted)
        before, changing nothing; "refused" if a budget's condition failed (no room any more)."""
        own = {
            "Update": {
                "TableName": self._table,
                "Key": _key(tenant, task_id, _chunk_sk(chunk)),
                "UpdateExpression": "SET #res = :res",
                "ConditionExpression": "attribute_exists(sk) AND attribute_not_exists(#res) "
                "AND attribute_not_exists(rounds.#r)",
                "ExpressionAttributeNames": {"#res": f"{RESERVATION}{number}", "#r": str(number)},
                "ExpressionAttributeValues": {":res": _dump(reservation.model_dump(exclude_none=True))},
            }
        }
        return self._transact(own, ledger)

    def settle_round(
        self, tenant: str, task_id: str, chunk: int, number: int, spent_micros: int, ledger: list[dict]
    ) -> bool:
        """Mark round `number`'s reservation settled and write the budgets' `ledger` updates in one
        transaction; False (changing nothing) if it was settled before."""
        own = {
            "Update": {
                "TableName": self._table,
                "Key": _key(tenant, task_id, _chunk_sk(chunk)),
                "UpdateExpression": "SET #res.settled_micros = :spent",
                "ConditionExpression": "attribute_exists(#res) AND attribute_not_exists(#res.settled_micros)",
                "ExpressionAttributeNames": {"#res": f"{RESERVATION}{number}"},
                "ExpressionAttributeValues": {":spent": _dump(spent_micros)},
            }
        }
        return self._transact(own, ledger) == "reserved"

    def _transact(self, own: dict, ledger: list[dict]) -> str:
        if not ledger:
            try:
                self._ddb.update_item(**own["Update"])
            except ClientError as exc:
                if _condition_failed(exc):
                    return "exists"
                raise
            return "reserved"
        try:
            self._ddb.transact_write_items(TransactItems=[own, *ledger])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code") for reason in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return "exists"
            if any(code == "ConditionalCheckFailed" for code in reasons[1:]):
                return "refused"
            raise
        return "reserved"

    def add_round(self, tenant: str, task_id: str, chunk: int, number: int, round_: Round) -> bool:
        """Record a submitted provider batch as round `number`; False if that round was taken."""
        return self._update_chunk(
            tenant,
            task_id,
            chunk,
            "SET rounds.#r = :round",
            condition="attribute_exists(sk) AND attribute_not_exists(rounds.#r)",
            values={":round": _dump(round_.model_dump())},
            names={"#r": str(number)},
        )

    def update_round(self, tenant: str, task_id: str, chunk: int, number: int, round_: Round) -> None:
        """The round's state as last seen (status, counts, collected)."""
        self._update_chunk(
            tenant,
            task_id,
            chunk,
            "SET rounds.#r.#status = :s, rounds.#r.request_counts = :c, rounds.#r.collected = :done",
            condition="attribute_exists(rounds.#r)",
            values={
                ":s": _dump(round_.status),
                ":c": _dump(round_.request_counts.model_dump()),
                ":done": _dump(round_.collected),
            },
            names={"#r": str(number), "#status": "status"},
        )

    def mark_counted(self, tenant: str, task_id: str, chunk: int) -> None:
        self._update_chunk(
            tenant, task_id, chunk, "SET counted = :yes", condition="attribute_exists(sk)", values={":yes": _dump(True)}
        )

    # -- answers -------------------------------------------------------------------------------

    def record_answer(self, tenant: str, task_id: str, chunk: int, answer: AnswerRecord) -> bool:
        """Keep one custom_id's answer; False if it was recorded before (it is never replaced)."""
        item = {"job": _job(tenant, task_id), "sk": _answer_prefix(chunk) + answer.custom_id, **answer.model_dump()}
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={k: _dump(v) for k, v in item.items() if v is not None},
                ConditionExpression="attribute_not_exists(sk)",
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def answers(self, tenant: str, task_id: str, chunk: int) -> list[AnswerRecord]:
        return [AnswerRecord.model_validate(raw) for raw in self._query(tenant, task_id, _answer_prefix(chunk))]

    # -- internals -----------------------------------------------------------------------------

    def _query(self, tenant: str, task_id: str, prefix: str) -> list[dict[str, Any]]:
        found = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "job = :job AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":job": _dump(_job(tenant, task_id)), ":prefix": _dump(prefix)},
            "ConsistentRead": True,
        }
        while True:
            response = self._ddb.query(**query)
            found += [_load(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return found
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _update_chunk(
        self,
        tenant: str,
        task_id: str,
        chunk: int,
        expression: str,
        *,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> bool:
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=_key(tenant, task_id, _chunk_sk(chunk)),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                **({"ExpressionAttributeNames": names} if names else {}),
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True
