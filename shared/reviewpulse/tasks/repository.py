"""The task lifecycle in DynamoDB: create, read, list, and each status move of `tasks.model`'s
`TRANSITIONS` as one conditional write whose condition is read from that table.

Counters are updated with one conditional UpdateItem per chunk: the chunk's index joins a number
set in the same write that adds its counts, so a redelivered chunk fails the condition instead of
counting twice (DynamoDB `ADD` alone is atomic but not idempotent).

The task item's other concerns have their own modules on the same table (tasks.table): the spend
ledger (`TaskRepository.spend`), the Batch API state (`.batch_api`), the sweeper's queries
(`.sweeps`) and a taught-first task's teaching phase (`.teaching`), reached through this repository so that a use case keeps one collaborator.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from reviewpulse.analysis.sentiment import Usage
from reviewpulse.clock import now
from reviewpulse.errors import InvalidCursor
from reviewpulse.results.headline import Headline
from reviewpulse.results.summaries import Report, Summary
from reviewpulse.tasks.batch_state import BatchApiState
from reviewpulse.tasks.model import (
    LlmBatchState,
    Move,
    Quote,
    Task,
    TaskError,
    TaskStatus,
    TaskWarning,
    created_key,
    is_watched,
    target,
)
from reviewpulse.tasks.spend_ledger import SpendLedger
from reviewpulse.tasks.sweeps import Sweeps
from reviewpulse.tasks.table import (
    ANSWERED_BY,
    USAGE_ATTRIBUTES,
    VERSION,
    TaskTable,
    active_shard,
    deserialize,
    is_condition_failure,
    status_in,
    task_from_item,
    to_item,
    to_values,
)
from reviewpulse.tasks.teaching import TeachingState

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


class TaskRepository(TaskTable):
    """The task lifecycle; `on_ended` is the table's (tasks.table.TaskTable)."""

    def __init__(self, table_name: str, dynamodb: Any, *, on_ended: Callable[[Task], Any] | None = None) -> None:
        super().__init__(table_name, dynamodb, on_ended=on_ended)
        self.spend = SpendLedger(table_name, dynamodb)
        self.batch_api = BatchApiState(table_name, dynamodb)
        self.sweeps = Sweeps(table_name, dynamodb, on_ended=on_ended)
        self.teaching = TeachingState(table_name, dynamodb)

    # -- reads ---------------------------------------------------------------------------------

    def get(self, tenant: str, task_id: str) -> Task | None:
        response = self._ddb.get_item(
            TableName=self._table,
            Key=to_item({"tenant": tenant, "task_id": task_id}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return task_from_item(item) if item else None

    def list(
        self, tenant: str, *, status: TaskStatus | None, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Task], dict[str, Any] | None]:
        """The tenant's tasks, newest first, from `start` (the position a previous call returned);
        with the position after them, or None at the end."""
        query: dict[str, Any] = {"TableName": self._table, "Limit": limit, "ScanIndexForward": False}
        tenant_status = f"{tenant}#{status.value}" if status is not None else None
        if tenant_status is None:
            index = "by_created"
            query.update(KeyConditionExpression="tenant = :t", ExpressionAttributeValues=to_values({":t": tenant}))
        else:
            index = "by_status"
            query.update(
                KeyConditionExpression="tenant_status = :ts",
                ExpressionAttributeValues=to_values({":ts": tenant_status}),
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
        tasks = [task_from_item(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return tasks, (deserialize(last) if last else None)

    def all_of_tenant(self, tenant: str) -> list[Task]:
        """Every task of the tenant, by the table's own key (erasure: not one page, all of them)."""
        paginator = self._ddb.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="tenant = :t",
            ExpressionAttributeValues=to_values({":t": tenant}),
            ConsistentRead=True,
        )
        return [task_from_item(item) for page in pages for item in page.get("Items", [])]

    def describe(self) -> dict[str, Any]:
        return self._ddb.describe_table(TableName=self._table)["Table"]

    # -- creation and removal ------------------------------------------------------------------

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
            VERSION: 1,
        }
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(task_id)",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def delete(self, tenant: str, task_id: str) -> None:
        self._ddb.delete_item(TableName=self._table, Key=to_item({"tenant": tenant, "task_id": task_id}))

    # -- status moves (tasks.model.TRANSITIONS) ------------------------------------------------

    def claim_source(self, task: Task, *, source_key: str, source_etag: str, correlation_id: str | None) -> Task | None:
        """Bind a batch task to its uploaded file before splitting it: accepted → queued, or the
        same file again after a split that died part-way. None if the task was split already,
        has ended, moved on since it was read, or is bound to another version of the file."""
        status = task.after(Move.CLAIM_SOURCE)
        if status is None:
            return None
        allowed, allowed_values = status_in(Move.CLAIM_SOURCE)
        return self._update(
            task.tenant,
            task.task_id,
            set="#s = :status, tenant_status = :ts, source_key = :src, source_etag = :etag, updated_at = :now"
            + (", correlation_id = :cid" if correlation_id else ""),
            condition=f"#s = :seen AND {allowed} AND attribute_not_exists(chunk_count) "
            "AND (attribute_not_exists(source_etag) OR source_etag = :etag)",
            values={
                ":status": status.value,
                ":seen": task.status.value,
                ":ts": f"{task.tenant}#{status.value}",
                ":src": source_key,
                ":etag": source_etag,
                ":now": now().isoformat(),
                **allowed_values,
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
        allowed, allowed_values = status_in(Move.RECORD_SPLIT)
        return self._update(
            tenant,
            task_id,
            set="#total = :total, chunk_count = :chunks, text_field = :tf, #columns = :cols, "
            "source_encoding = :enc, source_delimiter = :delim, updated_at = :now",
            condition=allowed,
            values={
                ":total": total,
                ":chunks": chunk_count,
                ":tf": text_field,
                ":cols": columns,
                ":enc": encoding,
                ":delim": delimiter,
                ":now": now().isoformat(),
                **allowed_values,
            },
            names={"#total": "total", "#columns": "columns"},
        )

    def hand_on_split(self, tenant: str, task_id: str, *, seen: int | None, next_chunk: int) -> Task | None:
        """The split's chunks below `next_chunk` are queued; it goes on from there. Only from the
        checkpoint the caller started at (`seen`), so that of two copies of one hand-on message
        one goes on; None if another moved it first, the file is whole or the task has ended."""
        allowed, allowed_values = status_in(Move.HAND_ON_SPLIT)
        started = "split_next_chunk = :seen" if seen is not None else "attribute_not_exists(split_next_chunk)"
        return self._update(
            tenant,
            task_id,
            set="split_next_chunk = :next, updated_at = :now",
            condition=f"{allowed} AND attribute_not_exists(chunk_count) AND {started}",
            values={
                ":next": next_chunk,
                ":now": now().isoformat(),
                **({":seen": seen} if seen is not None else {}),
                **allowed_values,
            },
        )

    def record_quote(self, tenant: str, task_id: str, quote: Quote) -> Task | None:
        """queued → quoted, with its quote: the file was counted and priced, nothing was queued. The
        task leaves the sweeper's index: it waits for its owner, not for a worker."""
        return self._set_status(
            tenant,
            task_id,
            Move.QUOTE,
            set="quote = :quote",
            condition="attribute_not_exists(chunk_count)",
            values={":quote": json.loads(quote.model_dump_json(), parse_float=Decimal)},
        )

    def start_quoted(self, tenant: str, task_id: str) -> Task | None:
        """quoted → queued (back in the sweeper's index); None if the task is not quoted."""
        return self._set_status(tenant, task_id, Move.START_QUOTED, remove="paused_reason")

    def mark_paused(self, tenant: str, task_id: str, reason: str, *, needed_micros: int = 0) -> Task | None:
        """queued or processing → paused, with why and the cost of the request a budget refused;
        None if it was not running (or already paused). A paused task leaves the sweeper's index:
        it waits for a budget, not for a worker."""
        return self._set_status(
            tenant,
            task_id,
            Move.PAUSE,
            set="paused_reason = :why, paused_needs_micros = :needs",
            values={":why": reason, ":needs": needed_micros},
        )

    def resume_paused(self, tenant: str, task_id: str) -> Task | None:
        """paused → processing (back in the sweeper's index); None if the task is not paused."""
        return self._set_status(tenant, task_id, Move.RESUME, remove="paused_reason")

    def _set_status(
        self,
        tenant: str,
        task_id: str,
        move: Move,
        *,
        set: str = "",
        remove: str | None = None,
        condition: str = "",
        values: dict[str, Any] | None = None,
    ) -> Task | None:
        """Make `move`, which leads every status it is made from to one status, with the task's
        place in the sweeper's `active` index following it (tasks.model.is_watched)."""
        status = target(move)
        allowed, allowed_values = status_in(move)
        removed = [name for name in (remove, None if is_watched(status) else "active_shard") if name]
        return self._update(
            tenant,
            task_id,
            set="#s = :to, tenant_status = :ts, updated_at = :now"
            + (", active_shard = :shard" if is_watched(status) else "")
            + (f", {set}" if set else ""),
            remove=", ".join(removed) or None,
            condition=f"{allowed} AND {condition}" if condition else allowed,
            values={
                ":to": status.value,
                ":ts": f"{tenant}#{status.value}",
                ":now": now().isoformat(),
                **({":shard": active_shard(task_id)} if is_watched(status) else {}),
                **allowed_values,
                **(values or {}),
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
            for name, attribute in USAGE_ATTRIBUTES.items():
                adds.append(f"{attribute} :{attribute}")
                usage_values[f":{attribute}"] = getattr(usage, name)
        for n, (engine, count) in enumerate(sorted((answered_by or {}).items())):
            # Engine names (lexicon-fallback) are not attribute-name safe: they go by placeholder.
            adds.append(f"#e{n} :e{n}")
            engine_names[f"#e{n}"] = f"{ANSWERED_BY}{engine}"
            usage_values[f":e{n}"] = count
        values = {**usage_values, ":p": processed, ":f": failed, ":attempt": attempt, ":now": now().isoformat()}
        names = {"#processed": "processed", "#parts": "parts", "#chunk": str(chunk), **engine_names}
        counting, counting_values = status_in(Move.COUNT_CHUNK, to=TaskStatus.PROCESSING)
        counted = self._update(
            tenant,
            task_id,
            set="#parts.#chunk = :attempt, #s = :processing, tenant_status = :ts, updated_at = :now",
            add=adds,
            condition=f"{counting} AND attribute_not_exists(#parts.#chunk)",
            values={
                **values,
                **counting_values,
                ":processing": TaskStatus.PROCESSING.value,
                ":ts": f"{tenant}#{TaskStatus.PROCESSING.value}",
            },
            names=names,
        )
        if counted is not None:
            return counted
        # A chunk that was in flight when its task paused still counts, and the task stays paused.
        waiting, waiting_values = status_in(Move.COUNT_CHUNK, to=TaskStatus.PAUSED)
        return self._update(
            tenant,
            task_id,
            set="#parts.#chunk = :attempt, updated_at = :now",
            add=adds,
            condition=f"{waiting} AND attribute_not_exists(#parts.#chunk)",
            values={**values, **waiting_values},
            names=names,
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
            extra.update({f":{attribute}": getattr(usage, name) for name, attribute in USAGE_ATTRIBUTES.items()})
            adds = [f"{attribute} :{attribute}" for attribute in USAGE_ATTRIBUTES.values()]
        allowed, allowed_values = status_in(Move.FINISH)
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
            condition=allowed,
            values={
                ":ready": TaskStatus.READY.value,
                ":ts": f"{tenant}#{TaskStatus.READY.value}",
                **extra,
                ":summary": json.loads(summary.model_dump_json(), parse_float=Decimal),
                ":rk": results_key,
                ":ck": results_csv_key,
                ":now": now().isoformat(),
                **allowed_values,
            },
        )
        return self._ended(updated) is not None

    def mark_error(self, tenant: str, task_id: str, error: TaskError) -> bool:
        """Any running status → error."""
        return self._end(tenant, task_id, Move.FAIL, error) is not None

    def mark_cancelled(self, tenant: str, task_id: str) -> Task | None:
        """Any running status → cancelled. None if the task had already ended."""
        return self._end(tenant, task_id, Move.CANCEL, None)

    # -- the other concerns, kept reachable under their old names for the callers of a parallel
    # branch (usecases.split, usecases.collect_batches); new code calls `batch_api` itself.

    def choose_batch_mode(self, tenant: str, task_id: str, *, note: str) -> Task | None:
        return self.batch_api.choose_batch_mode(tenant, task_id, note=note)

    def record_llm_batch(self, tenant: str, task_id: str, state: LlmBatchState) -> Task | None:
        return self.batch_api.record(tenant, task_id, state)
