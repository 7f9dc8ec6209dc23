"""DynamoDB access for tasks. The only module that knows the table's shape.

Counters are updated with one conditional UpdateItem per chunk: the chunk's index joins a number
set in the same write that adds its counts, so a redelivered chunk fails the condition instead of
counting twice (DynamoDB `ADD` alone is atomic but not idempotent).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from reviewpulse.analysis.base import Usage
from reviewpulse.clock import now
from reviewpulse.errors import InvalidCursor
from reviewpulse.results.headline import Headline
from reviewpulse.results.summaries import Report, Summary
from reviewpulse.tasks.model import LlmBatchState, Quote, Task, TaskError, TaskStatus, TaskWarning, created_key

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


# Every status a task can end from (not terminal): waiting ones (quoted, paused) included.
_RUNNING = "#s IN (:accepted, :queued, :processing, :quoted, :paused)"
_RUNNING_VALUES = {
    ":accepted": TaskStatus.ACCEPTED.value,
    ":queued": TaskStatus.QUEUED.value,
    ":processing": TaskStatus.PROCESSING.value,
    ":quoted": TaskStatus.QUOTED.value,
    ":paused": TaskStatus.PAUSED.value,
}

# Counts the task item's writes (1 when created, +1 in every update): what ETags are made of.
_VERSION = "version"

# Running tasks are spread over a few partitions of the sparse `active` index.
ACTIVE_SHARDS = 8


def active_shard(task_id: str) -> str:
    return f"s{int(task_id[-2:], 16) % ACTIVE_SHARDS}"


def _to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def _values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items()}


# LLM usage lives in top-level numbers so each chunk can ADD to them in its counting update.
_USAGE_ATTRIBUTES = {
    "requests": "llm_requests",
    "input_tokens": "llm_input_tokens",
    "output_tokens": "llm_output_tokens",
    "cached_items": "llm_cached_items",
    "batch_requests": "llm_batch_requests",
    "batch_input_tokens": "llm_batch_input_tokens",
    "batch_output_tokens": "llm_batch_output_tokens",
}

# Items answered per engine live in top-level numbers too (answered_by_lexicon, answered_by_llm,
# ...), so a chunk ADDs to them, whichever engines answered it, without a map that must exist first.
_ANSWERED_BY = "answered_by_"


def _from_item(item: dict[str, Any]) -> Task:
    raw = {k: _deserializer.deserialize(v) for k, v in item.items()}
    raw = _plain(raw)
    raw["progress"] = {
        "total": raw.pop("total", None),
        "processed": raw.pop("processed", 0),
        "failed": raw.pop("failed", 0),
    }
    raw["usage"] = {name: raw.pop(attribute, 0) for name, attribute in _USAGE_ATTRIBUTES.items()}
    raw["answered_by"] = {
        name.removeprefix(_ANSWERED_BY): raw.pop(name) for name in list(raw) if name.startswith(_ANSWERED_BY)
    }
    return Task.model_validate(raw)


def task_from_item(item: dict[str, Any]) -> Task:
    """A task from its item as DynamoDB writes it (typed attribute values), e.g. a stream image."""
    return _from_item(item)


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal and sets as set: make them JSON-friendly."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    return value


# The keys of each listing's LastEvaluatedKey; a start key must carry exactly these.
_START_KEYS = {
    "by_created": {"tenant", "task_id", "created_key"},
    "by_status": {"tenant", "task_id", "created_key", "tenant_status"},
}


def _start_key(position: Any, index: str, tenant: str, tenant_status: str | None) -> dict[str, Any]:
    # Cursors are signed and bound to the tenant and filters; this checks the shape again so that
    # nothing but the caller's own listing can ever reach DynamoDB.
    if not isinstance(position, dict) or set(position) != _START_KEYS[index]:
        raise InvalidCursor("the cursor belongs to another listing")
    if not all(isinstance(v, str) for v in position.values()):
        raise InvalidCursor("the cursor is not one this API returned")
    if position["tenant"] != tenant or (tenant_status is not None and position["tenant_status"] != tenant_status):
        raise InvalidCursor("the cursor belongs to another listing")
    return {k: {"S": v} for k, v in position.items()}


class TaskRepository:
    """`on_ended` is called with the task as it stands right after a call of this repository won
    its move to a terminal status (ready, error, cancelled): the one place every such move is
    won, whichever use case asks for it (finalize, the split's and the API's failures, cancel, the
    sweeper, dead letters); wiring passes the drop receipt writer here. (The completion event
    comes from the same write through the table's stream: usecases.notify.) A move that loses its
    condition calls nothing.
    """

    def __init__(self, table_name: str, dynamodb: Any, *, on_ended: Callable[[Task], Any] | None = None) -> None:
        self._table = table_name
        self._ddb = dynamodb
        self._on_ended = on_ended

    # -- reads ---------------------------------------------------------------------------------

    def get(self, tenant: str, task_id: str) -> Task | None:
        response = self._ddb.get_item(
            TableName=self._table,
            Key=_to_item({"tenant": tenant, "task_id": task_id}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _from_item(item) if item else None

    def list(
        self, tenant: str, *, status: TaskStatus | None, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Task], dict[str, Any] | None]:
        """The tenant's tasks, newest first, from `start` (the position a previous call returned);
        with the position after them, or None at the end."""
        query: dict[str, Any] = {"TableName": self._table, "Limit": limit, "ScanIndexForward": False}
        tenant_status = f"{tenant}#{status.value}" if status is not None else None
        if tenant_status is None:
            index = "by_created"
            query.update(KeyConditionExpression="tenant = :t", ExpressionAttributeValues=_values({":t": tenant}))
        else:
            index = "by_status"
            query.update(
                KeyConditionExpression="tenant_status = :ts", ExpressionAttributeValues=_values({":ts": tenant_status})
            )
        query["IndexName"] = index
        if start is not None:
            query["ExclusiveStartKey"] = _start_key(start, index, tenant, tenant_status)
        try:
            response = self._ddb.query(**query)
        except ClientError as exc:
            if start is not None and exc.response.get("Error", {}).get("Code") == "ValidationException":
                raise InvalidCursor("the cursor is not one this API returned") from None
            raise
        tasks = [_from_item(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return tasks, ({k: _deserializer.deserialize(v) for k, v in last.items()} if last else None)

    # -- writes --------------------------------------------------------------------------------

    def create(self, task: Task) -> bool:
        """Store a new task; False when a task with that id already exists (a duplicate event)."""
        item = {
            "tenant": task.tenant,
            "task_id": task.task_id,
            "type": task.type.value,
            "status": task.status.value,
            "tenant_status": f"{task.tenant}#{task.status.value}",
            "created_at": task.created_at.isoformat(),
            "updated_at": task.updated_at.isoformat(),
            "created_key": created_key(task),
            "correlation_id": task.correlation_id,
            "filename": task.filename,
            "format": task.format,
            "text_field": task.text_field,
            "id_field": task.id_field,
            "source_key": task.source_key,
            "source_etag": task.source_etag,
            "active_shard": None if task.status.is_terminal else active_shard(task.task_id),
            "parts": {},
            "total": task.progress.total,
            "processed": 0,
            "failed": 0,
            "chunk_count": task.chunk_count,
            "expires_at": task.expires_at,
            # Through JSON: DynamoDB takes a float (min_confidence) only as a Decimal.
            "options": json.loads(task.options.model_dump_json(), parse_float=Decimal),
            "notes": task.notes or None,
            _VERSION: 1,
        }
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=_to_item(item),
                ConditionExpression="attribute_not_exists(task_id)",
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    def claim_source(self, task: Task, *, source_key: str, source_etag: str, correlation_id: str | None) -> Task | None:
        """Bind a batch task to its uploaded file before splitting it: accepted → queued, or the
        same file again after a split that died part-way. None if the task was split already,
        has ended, moved on since it was read, or is bound to another version of the file."""
        status = TaskStatus.QUEUED if task.status is TaskStatus.ACCEPTED else task.status
        return self._update(
            task.tenant,
            task.task_id,
            set="#s = :status, tenant_status = :ts, source_key = :src, source_etag = :etag, updated_at = :now"
            + (", correlation_id = :cid" if correlation_id else ""),
            condition="#s = :seen AND #s IN (:accepted, :queued, :processing) AND attribute_not_exists(chunk_count) "
            "AND (attribute_not_exists(source_etag) OR source_etag = :etag)",
            values={
                ":status": status.value,
                ":seen": task.status.value,
                ":ts": f"{task.tenant}#{status.value}",
                ":src": source_key,
                ":etag": source_etag,
                ":now": now().isoformat(),
                ":accepted": TaskStatus.ACCEPTED.value,
                ":queued": TaskStatus.QUEUED.value,
                ":processing": TaskStatus.PROCESSING.value,
                **({":cid": correlation_id} if correlation_id else {}),
            },
        )

    def record_split(
        self,
        tenant: str,
        task_id: str,
        *,
        total: int,
        chunk_count: int,
        text_field: str,
        columns: list[str],
        encoding: str = "UTF-8",
        delimiter: str | None = None,
    ) -> Task | None:
        """Record how many items and chunks the file held, once the whole file has been read, and
        how it was read (its encoding; a CSV's delimiter)."""
        return self._update(
            tenant,
            task_id,
            set="#total = :total, chunk_count = :chunks, text_field = :tf, #columns = :cols, "
            "source_encoding = :enc, source_delimiter = :delim, updated_at = :now",
            condition="#s IN (:queued, :processing)",
            values={
                ":total": total,
                ":chunks": chunk_count,
                ":tf": text_field,
                ":cols": columns,
                ":enc": encoding,
                ":delim": delimiter,
                ":now": now().isoformat(),
                ":queued": TaskStatus.QUEUED.value,
                ":processing": TaskStatus.PROCESSING.value,
            },
            names={"#total": "total", "#columns": "columns"},
        )

    def record_quote(self, tenant: str, task_id: str, quote: Quote) -> Task | None:
        """queued → quoted, with its quote: the file was counted and priced, nothing was queued. The
        task leaves the sweeper's index: it waits for its owner, not for a worker."""
        return self._update(
            tenant,
            task_id,
            set="#s = :quoted, tenant_status = :ts, quote = :quote, updated_at = :now",
            remove="active_shard",
            condition="#s = :queued AND attribute_not_exists(chunk_count)",
            values={
                ":quoted": TaskStatus.QUOTED.value,
                ":ts": f"{tenant}#{TaskStatus.QUOTED.value}",
                ":quote": json.loads(quote.model_dump_json(), parse_float=Decimal),
                ":now": now().isoformat(),
                ":queued": TaskStatus.QUEUED.value,
            },
        )

    def start_quoted(self, tenant: str, task_id: str) -> Task | None:
        """quoted → queued (back in the sweeper's index); None if the task is not quoted."""
        return self._move(tenant, task_id, TaskStatus.QUOTED, TaskStatus.QUEUED)

    def mark_paused(self, tenant: str, task_id: str, reason: str, *, needed_micros: int = 0) -> Task | None:
        """queued or processing → paused, with why and the cost of the request a budget refused;
        None if it was not running (or already paused). A paused task leaves the sweeper's index:
        it waits for a budget, not for a worker."""
        return self._update(
            tenant,
            task_id,
            set="#s = :paused, tenant_status = :ts, paused_reason = :why, paused_needs_micros = :needs, "
            "updated_at = :now",
            remove="active_shard",
            condition="#s IN (:queued, :processing)",
            values={
                ":paused": TaskStatus.PAUSED.value,
                ":ts": f"{tenant}#{TaskStatus.PAUSED.value}",
                ":why": reason,
                ":needs": needed_micros,
                ":now": now().isoformat(),
                ":queued": TaskStatus.QUEUED.value,
                ":processing": TaskStatus.PROCESSING.value,
            },
        )

    def resume_paused(self, tenant: str, task_id: str) -> Task | None:
        """paused → processing (back in the sweeper's index); None if the task is not paused."""
        return self._move(tenant, task_id, TaskStatus.PAUSED, TaskStatus.PROCESSING)

    def _move(self, tenant: str, task_id: str, seen: TaskStatus, to: TaskStatus) -> Task | None:
        return self._update(
            tenant,
            task_id,
            set="#s = :to, tenant_status = :ts, active_shard = :shard, updated_at = :now",
            remove="paused_reason",
            condition="#s = :seen",
            values={
                ":to": to.value,
                ":ts": f"{tenant}#{to.value}",
                ":shard": active_shard(task_id),
                ":now": now().isoformat(),
                ":seen": seen.value,
            },
        )

    def record_chunk(
        self,
        tenant: str,
        task_id: str,
        *,
        chunk: int,
        attempt: str,
        processed: int,
        failed: int,
        usage: Usage | None = None,
        answered_by: dict[str, int] | None = None,
    ) -> Task | None:
        """Add one chunk's counts (its LLM usage, the items each engine answered) and name the
        attempt whose part holds its results, exactly once. None if that chunk was already counted
        or the task is no longer running."""
        adds = ["#processed :p", "failed :f"]
        usage_values = {}
        engine_names = {}
        if usage is not None:
            for name, attribute in _USAGE_ATTRIBUTES.items():
                adds.append(f"{attribute} :{attribute}")
                usage_values[f":{attribute}"] = getattr(usage, name)
        for n, (engine, count) in enumerate(sorted((answered_by or {}).items())):
            # Engine names (lexicon-fallback) are not attribute-name safe: they go by placeholder.
            adds.append(f"#e{n} :e{n}")
            engine_names[f"#e{n}"] = f"{_ANSWERED_BY}{engine}"
            usage_values[f":e{n}"] = count
        values = {**usage_values, ":p": processed, ":f": failed, ":attempt": attempt, ":now": now().isoformat()}
        names = {"#processed": "processed", "#parts": "parts", "#chunk": str(chunk), **engine_names}
        counted = self._update(
            tenant,
            task_id,
            set="#parts.#chunk = :attempt, #s = :processing, tenant_status = :ts, updated_at = :now",
            add=adds,
            condition="#s IN (:queued, :processing) AND attribute_not_exists(#parts.#chunk)",
            values={
                **values,
                ":processing": TaskStatus.PROCESSING.value,
                ":queued": TaskStatus.QUEUED.value,
                ":ts": f"{tenant}#{TaskStatus.PROCESSING.value}",
            },
            names=names,
        )
        if counted is not None:
            return counted
        # A chunk that was in flight when its task paused still counts, and the task stays paused.
        return self._update(
            tenant,
            task_id,
            set="#parts.#chunk = :attempt, updated_at = :now",
            add=adds,
            condition="#s = :paused AND attribute_not_exists(#parts.#chunk)",
            values={**values, ":paused": TaskStatus.PAUSED.value},
            names=names,
        )

    # -- spend (reserved and settled by tenants.budgets, around each LLM request) -------------

    def reserve_spend(self, tenant: str, task_id: str, micros: int, *, limit_micros: int | None) -> bool:
        """Add `micros` to what the task has committed (settled + in flight), only if that stays
        within `limit_micros` (options.max_cost_usd); False, changing nothing, if it would not."""
        if limit_micros is not None and micros > limit_micros:
            return False
        return self._update(tenant, task_id, **_reserve_args(micros, limit_micros)) is not None

    def settle_spend(self, tenant: str, task_id: str, *, reserved_micros: int, spent_micros: int) -> None:
        """Replace a reservation with what the request cost."""
        self._update(tenant, task_id, **_settle_args(reserved_micros, spent_micros))

    # The same two writes as one item of a transaction (TransactWriteItems), for Batch API mode: a
    # provider batch's reservation and settlement are written together with the record that makes
    # them happen once (provider_batches.repository).
    def reserve_spend_item(self, tenant: str, task_id: str, micros: int, *, limit_micros: int | None) -> dict:
        return {"Update": self._update_request(tenant, task_id, **_reserve_args(micros, limit_micros))}

    def settle_spend_item(self, tenant: str, task_id: str, *, reserved_micros: int, spent_micros: int) -> dict:
        return {"Update": self._update_request(tenant, task_id, **_settle_args(reserved_micros, spent_micros))}

    def raise_budget(self, tenant: str, task_id: str, max_cost_usd: float) -> bool:
        """A paused task's owner gives it more room (POST .../resume with max_cost_usd)."""
        raised = self._update(
            tenant,
            task_id,
            set="#o.max_cost_usd = :max, updated_at = :now",
            condition="#s = :paused",
            values={":max": Decimal(str(max_cost_usd)), ":now": now().isoformat(), ":paused": TaskStatus.PAUSED.value},
            names={"#o": "options"},
        )
        return raised is not None

    def choose_batch_mode(self, tenant: str, task_id: str, *, note: str) -> Task | None:
        """The splitter found the task large enough for the Batch API: options.mode becomes batch
        before any of its chunks is sent (a task that named its mode keeps it)."""
        return self._update(
            tenant,
            task_id,
            set="#options.#mode = :batch, notes = list_append(if_not_exists(notes, :empty), :note), updated_at = :now",
            condition="#s IN (:queued, :processing) AND attribute_not_exists(chunk_count) "
            "AND (attribute_not_exists(#options.#mode) OR attribute_type(#options.#mode, :null))",
            values={
                ":batch": "batch",
                ":null": "NULL",
                ":empty": [],
                ":note": [note],
                ":now": now().isoformat(),
                ":queued": TaskStatus.QUEUED.value,
                ":processing": TaskStatus.PROCESSING.value,
            },
            names={"#options": "options", "#mode": "mode"},
        )

    def record_llm_batch(self, tenant: str, task_id: str, state: LlmBatchState) -> Task | None:
        """Show where the task's provider batches stand. It also moves updated_at: a task waiting
        on the Batch API (up to 24 hours) is not stalled while its collector sees it."""
        return self._update(
            tenant,
            task_id,
            set="llm_batch = :state, updated_at = :now",
            condition="#s IN (:queued, :processing)",
            values={
                ":state": state.model_dump(),
                ":now": now().isoformat(),
                ":queued": TaskStatus.QUEUED.value,
                ":processing": TaskStatus.PROCESSING.value,
            },
        )

    def mark_ready(
        self,
        tenant: str,
        task_id: str,
        *,
        summary: Summary,
        results_key: str,
        results_csv_key: str,
        report: Report | None = None,
        usage: Usage | None = None,
        warnings: list[TaskWarning] | None = None,
        headline: Headline | None = None,
    ) -> bool:
        """Running → ready. Only one caller wins, so a task is finalized exactly once. `usage` is
        what writing the report cost, added to the task's."""
        extra = {":report": json.loads(report.model_dump_json(), parse_float=Decimal)} if report else {}
        if warnings:
            extra[":warnings"] = [warning.model_dump() for warning in warnings]
        if headline is not None:
            extra[":headline"] = json.loads(headline.model_dump_json(), parse_float=Decimal)
        adds = []
        if usage is not None:
            extra.update({f":{attribute}": getattr(usage, name) for name, attribute in _USAGE_ATTRIBUTES.items()})
            adds = [f"{attribute} :{attribute}" for attribute in _USAGE_ATTRIBUTES.values()]
        updated = self._update(
            tenant,
            task_id,
            set="#s = :ready, tenant_status = :ts, summary = :summary, results_key = :rk, "
            + ("report = :report, " if report else "")
            + ("warnings = :warnings, " if warnings else "")
            + ("headline = :headline, " if headline is not None else "")
            + "results_csv_key = :ck, updated_at = :now",
            add=adds,
            remove="active_shard",
            condition="#s IN (:queued, :processing)",
            values={
                ":ready": TaskStatus.READY.value,
                ":ts": f"{tenant}#{TaskStatus.READY.value}",
                **extra,
                ":summary": json.loads(summary.model_dump_json(), parse_float=Decimal),
                ":rk": results_key,
                ":ck": results_csv_key,
                ":now": now().isoformat(),
                ":queued": TaskStatus.QUEUED.value,
                ":processing": TaskStatus.PROCESSING.value,
            },
        )
        return self._ended(updated) is not None

    def mark_error(self, tenant: str, task_id: str, error: TaskError) -> bool:
        """Any running status → error."""
        return (
            self._end(tenant, task_id, TaskStatus.ERROR, error, condition=_RUNNING, values=_RUNNING_VALUES) is not None
        )

    def mark_cancelled(self, tenant: str, task_id: str) -> Task | None:
        """Any running status → cancelled. None if the task had already ended."""
        return self._end(tenant, task_id, TaskStatus.CANCELLED, None, condition=_RUNNING, values=_RUNNING_VALUES)

    def stale(self, shard: str, older_than: str) -> list[dict[str, str]]:
        """Running tasks of one shard last updated before `older_than` (ISO time)."""
        found: list[dict[str, str]] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "active",
            "KeyConditionExpression": "active_shard = :shard AND updated_at < :before",
            "ExpressionAttributeValues": _values({":shard": shard, ":before": older_than}),
        }
        while True:
            response = self._ddb.query(**query)
            found += [{k: _deserializer.deserialize(v) for k, v in item.items()} for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return found
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def expire(self, tenant: str, task_id: str, *, seen_status: str, seen_updated_at: str, error: TaskError) -> bool:
        """End a task that has not moved since it was seen; False if it moved or ended meanwhile."""
        ended = self._end(
            tenant,
            task_id,
            TaskStatus.ERROR,
            error,
            condition="#s = :seen AND updated_at = :seen_at",
            values={":seen": seen_status, ":seen_at": seen_updated_at},
        )
        return ended is not None

    def _end(
        self,
        tenant: str,
        task_id: str,
        status: TaskStatus,
        error: TaskError | None,
        *,
        condition: str,
        values: dict[str, Any],
    ) -> Task | None:
        """Move a task to a terminal status (leaving the sweeper's `active` index) if `condition`."""
        expression = "#s = :status, tenant_status = :ts, updated_at = :now"
        names: dict[str, str] = {}
        if error is not None:
            expression += ", #error = :err"
            values = {**values, ":err": error.model_dump()}
            names["#error"] = "error"
        return self._ended(
            self._update(
                tenant,
                task_id,
                set=expression,
                remove="active_shard",
                condition=condition,
                values={
                    ":status": status.value,
                    ":ts": f"{tenant}#{status.value}",
                    ":now": now().isoformat(),
                    **values,
                },
                names=names,
            )
        )

    def _ended(self, task: Task | None) -> Task | None:
        if task is not None and self._on_ended is not None:
            self._on_ended(task)
        return task

    def all_of_tenant(self, tenant: str) -> list[Task]:
        """Every task of the tenant, by the table's own key (erasure: not one page, all of them)."""
        paginator = self._ddb.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="tenant = :t",
            ExpressionAttributeValues=_values({":t": tenant}),
            ConsistentRead=True,
        )
        return [_from_item(item) for page in pages for item in page.get("Items", [])]

    def delete(self, tenant: str, task_id: str) -> None:
        self._ddb.delete_item(TableName=self._table, Key=_to_item({"tenant": tenant, "task_id": task_id}))

    def describe(self) -> dict[str, Any]:
        return self._ddb.describe_table(TableName=self._table)["Table"]

    # -- internals -----------------------------------------------------------------------------

    def _update(
        self,
        tenant: str,
        task_id: str,
        *,
        set: str,
        add: list[str] | None = None,
        remove: str | None = None,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> Task | None:
        """One conditional update of the task item. Every update also adds one to its `version`,
        which the API's ETags are made of: a write that changed the task without a new version
        would let a client keep a stale copy (its If-None-Match would still match)."""
        request = self._update_request(
            tenant, task_id, set=set, add=add, remove=remove, condition=condition, values=values, names=names
        )
        try:
            response = self._ddb.update_item(**request, ReturnValues="ALL_NEW")
        except ClientError as exc:
            if _is_condition_failure(exc):
                return None
            raise
        return _from_item(response["Attributes"])

    def _update_request(
        self,
        tenant: str,
        task_id: str,
        *,
        set: str,
        add: list[str] | None = None,
        remove: str | None = None,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        expression = f"SET {set} ADD {', '.join([*(add or []), f'{_VERSION} :one_version'])}"
        if remove:
            expression += f" REMOVE {remove}"
        return {
            "TableName": self._table,
            "Key": _to_item({"tenant": tenant, "task_id": task_id}),
            "UpdateExpression": expression,
            "ConditionExpression": f"attribute_exists(task_id) AND ({condition})",
            "ExpressionAttributeNames": {"#s": "status", **(names or {})},
            "ExpressionAttributeValues": _values({**values, ":one_version": 1}),
        }


def _reserve_args(micros: int, limit_micros: int | None) -> dict[str, Any]:
    condition = "attribute_exists(#s)"
    values: dict[str, Any] = {":m": micros, ":now": now().isoformat()}
    if limit_micros is not None:
        # DynamoDB conditions cannot add: "committed + m <= limit" is written "committed <= limit - m".
        condition += " AND (attribute_not_exists(spend_committed_micros) OR spend_committed_micros <= :room)"
        values[":room"] = limit_micros - micros
    return {"set": "updated_at = :now", "add": ["spend_committed_micros :m"], "condition": condition, "values": values}


def _settle_args(reserved_micros: int, spent_micros: int) -> dict[str, Any]:
    return {
        "set": "updated_at = :now",
        "add": ["spend_committed_micros :change", "spend_settled_micros :spent"],
        "condition": "attribute_exists(#s)",
        "values": {":change": spent_micros - reserved_micros, ":spent": spent_micros, ":now": now().isoformat()},
    }


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
