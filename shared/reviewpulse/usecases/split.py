"""Split an input file into chunks of items on the work queue, streaming it row by row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from reviewpulse.analysis.engines.base import EngineParts, LlmShare
from reviewpulse.analysis.engines.registry import drop_engine, engine_for
from reviewpulse.analysis.options import (
    AnalysisOptions,
    OptionsRequest,
    mode_waits_on_size,
    uses_batch_api,
)
from reviewpulse.analysis.teach import sample_rows
from reviewpulse.errors import UnusableFile
from reviewpulse.ingest.chunking import chunk_rows
from reviewpulse.ingest.formats import FileFormat
from reviewpulse.ingest.readers import open_rows
from reviewpulse.messages.ingest import S3Notification
from reviewpulse.observability import MetricUnit, logger, metrics
from reviewpulse.queues import FinalizeQueue, IngestQueue, WorkQueue
from reviewpulse.settings import Settings
from reviewpulse.storage.inputs import InputFiles, SourceChanged
from reviewpulse.storage.layout import (
    INCOMING,
    SourceObject,
    is_options_sidecar,
    parse_source_key,
    upload_key,
)
from reviewpulse.storage.objects import ObjectInfo
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.model import (
    Task,
    TaskError,
    TaskStatus,
    TaskType,
    drop_task_id,
)
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.tenants.keys import KeyRepository, is_valid_tenant
from reviewpulse.usecases.deliver_drop import INVALID_PATH, INVALID_TENANT, UNKNOWN_TENANT, DropRefused, drop_refused
from reviewpulse.usecases.drop_sidecar import BadSidecar, ReadSidecar, SidecarReading, sidecar_options
from reviewpulse.usecases.models import with_default_model
from reviewpulse.usecases.resolve_options import engine_notes
from reviewpulse.usecases.split_pacing import HandOff, choose_batch_mode, hold_until_mode_known
from reviewpulse.usecases.split_quote import ItemCounter, RecordQuote, quote_teacher, record_quote
from reviewpulse.usecases.teach_first import sample_only, teaches_first

CORRELATION_METADATA = "correlation-id"


@dataclass(frozen=True)
class DropChecks:
    """What a drop needs beyond an upload: the tenant's keys (a tenant exists iff it has an active
    API key) and where receipts of refused drops go. (A sidecar's options are the API's: both are
    analysis/options.py's one model.)"""

    keys: KeyRepository
    result_files: ResultFiles
    # The tenants' models: a drop on lexicon or auto is read by the tenant's default model where
    # its sidecar names none, and a model a sidecar names must be a ready one of the tenant's.
    models: ModelRepository | None = None


@dataclass(frozen=True)
class Splitter:
    """The splitter's collaborators, built once per process by wiring.splitter(); tests pass their
    own (a queue that dies part-way, say)."""

    tasks: TaskRepository
    input_files: InputFiles
    queue: WorkQueue
    finalizer: FinalizeQueue
    settings: Settings
    drops: DropChecks
    # Where a split that runs short of time asks for its rest (split_pacing.py); None: never.
    ingest: IngestQueue | None = None


@dataclass(frozen=True)
class Delivery:
    """What the queue and the S3 event say about this delivery of an object's creation.

    `sequencer` is S3's: the duplicates of one event carry the same one, and a later write of the
    same key a greater one, so it tells a redelivered event from a new object even when the bytes
    (and so the ETag) are the same. Emulators that send none (moto) are told apart by the event's
    time instead. `final` is set on the queue's last delivery before its dead-letter queue.
    """

    sequencer: str | None = None
    event_time: str | None = None
    final: bool = False
    deadline: float | None = None  # time.monotonic() by which to hand the rest on (split_pacing.py)


@dataclass(frozen=True)
class SplitObject:
    """Command: split the object `source` names (an upload, or a drop), as its S3 event says it was
    delivered; `correlation_id` is the event's, used where the object carries none of its own."""

    source: SourceObject
    correlation_id: str | None = None
    delivery: Delivery = Delivery()


@dataclass(frozen=True)
class SplitQuotedTask:
    """Command: split a quoted task's file again, now for real (POST /v1/tasks/{id}/start)."""

    tenant: str
    task_id: str
    correlation_id: str | None = None
    final: bool = False  # the queue's last delivery of the request
    deadline: float | None = None


@dataclass(frozen=True)
class ResumeSplit:
    """Command: go on with a split that handed itself on before its function's timeout."""

    tenant: str
    task_id: str
    correlation_id: str | None = None
    delivery: Delivery = Delivery()


@dataclass(frozen=True)
class SplitOutcome:
    task_id: str | None
    outcome: str  # "split", "quoted", "error", "skipped" or "handed-on" (split_pacing.py)
    items: int = 0
    chunks: int = 0
    reason: str = ""


def split_notification(
    notification: S3Notification, splitter: Splitter, *, final: bool, deadline: float | None = None
) -> list[SplitOutcome]:
    """One S3 notification: each object created under the upload and drop prefixes is split."""
    outcomes = []
    for record in notification.records:
        # Keys arrive URL-encoded (spaces as "+"), whatever the object's real name.
        source = parse_source_key(unquote_plus(record.s3.object.key))
        if source is None:
            logger.warning("object outside the upload and drop prefixes ignored")
            continue
        delivery = Delivery(record.s3.object.sequencer, record.event_time, final=final, deadline=deadline)
        outcomes.append(split_source(SplitObject(source, record.request_id, delivery), splitter))
    return outcomes


def split_source(command: SplitObject, splitter: Splitter) -> SplitOutcome:
    """Split the object `source` names into work-queue chunks of its task (made here for a drop).

    Whatever the file holds, the task ends: an unreadable file or row is an error of the task or
    of the row, and an unexpected failure on the queue's final delivery ends the task in
    `split-failed` instead of leaving it `queued` while its message goes to the dead-letter queue.
    """
    source, delivery, event_correlation_id = command.source, command.delivery, command.correlation_id
    tasks, input_files, settings, drops = splitter.tasks, splitter.input_files, splitter.settings, splitter.drops
    if is_options_sidecar(source):
        return SplitOutcome(None, "skipped", reason="options sidecar")  # read when its file arrives
    if not is_valid_tenant(source.tenant):
        logger.warning("file under a prefix that is not a tenant name refused")
        detail = "the first folder under incoming/ must be your tenant name (lowercase letters, digits and -)"
        drop_refused(DropRefused(source, INVALID_TENANT, detail, tenant_is_valid=False), drops.result_files)
        return SplitOutcome(None, "skipped", reason="not a tenant prefix")
    if not source.clean:
        logger.warning("file whose path has an empty, . or .. folder refused")
        detail = "no folder of the path under incoming/<tenant>/ may be empty, '.' or '..'"
        drop_refused(DropRefused(source, INVALID_PATH, detail, tenant_is_valid=True), drops.result_files)
        return SplitOutcome(None, "skipped", reason="not a clean path")
    if source.kind == INCOMING and not any(key.active for key in drops.keys.for_tenant(source.tenant)):
        logger.warning("file dropped for a tenant that does not exist refused", extra={"tenant": source.tenant})
        detail = f"no tenant {source.tenant!r} exists here"
        drop_refused(DropRefused(source, UNKNOWN_TENANT, detail, tenant_is_valid=True), drops.result_files)
        return SplitOutcome(None, "skipped", reason="unknown tenant")
    info = input_files.source_info(source.key)
    if info is None:
        return SplitOutcome(source.task_id, "skipped", reason="object no longer exists")
    correlation_id = info.metadata.get(CORRELATION_METADATA) or event_correlation_id
    if correlation_id:
        logger.set_correlation_id(correlation_id)

    task = (
        _task_for_drop(source, info, delivery, tasks, input_files, settings, correlation_id, drops)
        if source.kind == INCOMING
        else _task_for_upload(source, info, tasks, correlation_id)
    )
    if isinstance(task, SplitOutcome):
        return task
    return _split_guarded(source, info, task, splitter, correlation_id, delivery)


def _split_guarded(
    source: SourceObject,
    info: ObjectInfo,
    task: Task,
    splitter: Splitter,
    correlation_id: str | None,
    delivery: Delivery,
) -> SplitOutcome:
    try:
        return _split(source, info, task, splitter, correlation_id, delivery.deadline)
    except Exception as exc:
        if not delivery.final:
            raise  # the queue delivers it again: the failure may be passing
        # Only the exception's type, no traceback: its message may quote the file.
        logger.error("split failed on its final delivery", extra={"error_type": type(exc).__name__})
        detail = f"the split failed on every delivery of its message ({type(exc).__name__})"
        return _fail(splitter.tasks, task, "split-failed", detail)


def split_started_task(command: SplitQuotedTask, splitter: Splitter) -> SplitOutcome:
    """Split a quoted task's file again, now for real, after POST /v1/tasks/{id}/start."""
    task_id = command.task_id
    task = splitter.tasks.get(command.tenant, task_id)
    source = parse_source_key(task.source_key) if task is not None and task.source_key else None
    if task is None or source is None or task.quote is None:
        logger.warning("split request for a task that was never quoted ignored", extra={"task_id": task_id})
        return SplitOutcome(task_id, "skipped", reason="not a quoted task")
    correlation_id = command.correlation_id or task.correlation_id
    delivery = Delivery(final=command.final, deadline=command.deadline)
    return split_source(SplitObject(source, correlation_id, delivery), splitter)


def split_resumed(command: ResumeSplit, splitter: Splitter) -> SplitOutcome:
    """Go on from the checkpoint of a split that handed itself on (split_pacing.py)."""
    task = splitter.tasks.get(command.tenant, command.task_id)
    source = parse_source_key(task.source_key) if task is not None and task.source_key else None
    if task is None or source is None or task.chunk_count is not None or task.status.is_terminal:
        return SplitOutcome(command.task_id, "skipped", reason="no split to go on with")
    info = splitter.input_files.source_info(source.key)
    if info is None:
        return _fail(splitter.tasks, task, "source-changed", "the file was deleted while it was being split")
    correlation_id = command.correlation_id or task.correlation_id
    if correlation_id:
        logger.set_correlation_id(correlation_id)
    return _split_guarded(source, info, task, splitter, correlation_id, command.delivery)


def _split(
    source: SourceObject,
    info: ObjectInfo,
    task: Task,
    splitter: Splitter,
    correlation_id: str | None,
    deadline: float | None,
) -> SplitOutcome:
    tasks, input_files, queue, finalizer = splitter.tasks, splitter.input_files, splitter.queue, splitter.finalizer
    settings = splitter.settings
    if task.tenant != source.tenant or task.source_key not in (None, source.key):
        # Defence in depth: a task reads only the object it was made for.
        return _fail(tasks, task, "source-mismatch", "the object's key does not belong to this task")
    if info.size > settings.max_upload_bytes:
        detail = f"the file has {info.size} bytes; the maximum is {settings.max_upload_bytes}"
        return _fail(tasks, task, "file-too-large", detail)
    if task.format is None:
        return _fail(tasks, task, "unsupported-format", f"{source.filename!r} is not a csv, json, jsonl or txt file")

    spec = task.file_spec(settings.max_text_chars)
    counter = ItemCounter()
    # A quote-only task is split once to be priced (nothing is queued), and again when started.
    quoting = task.options.quote_only and task.quote is None
    share = LlmShare()
    try:
        rows = open_rows(input_files.open_source(source.key, etag=task.source_etag), spec)
        # The engine sets its chunks' size and queue (LLM chunks are smaller, to fit its timeout).
        engine = engine_for(task.options, EngineParts(settings))
        chunks = chunk_rows(rows, engine.chunk_max_items, settings.chunk_max_bytes)
        if task.options.teach is not None:
            # The teaching sample needs the file's item count first: a counting pass.
            counted = chunk_rows(
                open_rows(input_files.open_source(source.key, etag=task.source_etag), spec),
                engine.chunk_max_items,
                settings.chunk_max_bytes,
            )
            counter.total = sum(len(chunk.items) for chunk in counted)
            counter.sample = sample_rows(task.task_id, counter.total, task.options.teach.sample)
        teacher = quote_teacher(task, settings) if quoting else None
        if quoting:
            for message in counter.messages(task, chunks):
                # Chunk by chunk, as the workers will send them: requests never span two chunks.
                texts = {item.row: item.text for item in message.items if item.text is not None and item.error is None}
                taught = {row: text for row, text in texts.items() if row in counter.sample}
                if teacher is not None and taught:
                    # On auto the sample goes to the LLM whatever the lexicon says (priced apart).
                    counter.teach_share = counter.teach_share + teacher.quote(taught, task.options, tenant=task.tenant)
                    texts = {row: text for row, text in texts.items() if row not in taught}
                elif taught:
                    counter.teach_share = counter.teach_share + engine.quote(taught, task.options, tenant=task.tenant)
                share = share + engine.quote(texts, task.options, tenant=task.tenant)
        else:
            threshold = settings.llm_batch_min_items
            # A teaching task stays in sync mode (check_teach): its sample is answered chunk by chunk.
            waits = mode_waits_on_size(task.options.mode, threshold) and task.options.teach is None
            if engine.uses_llm_queue and waits:
                chunks = hold_until_mode_known(
                    chunks,
                    lambda items: uses_batch_api(task.options.mode, items=items, threshold=threshold),
                    lambda: choose_batch_mode(tasks, task, threshold),
                )
            if first := teaches_first(task, counter.total):
                # Taught first: only the sample now; the rest once its model has ended (teach_first.py).
                chunks = chunk_rows(sample_only(rows, counter.sample), engine.chunk_max_items, settings.chunk_max_bytes)
            # Chunks below the checkpoint of a split that handed itself on are queued already.
            handoff = HandOff(task, deadline if splitter.ingest is not None else None)
            messages = handoff.until_deadline(counter.messages(task, chunks, first=handoff.first))
            queue.send(messages, correlation_id, llm_queue=engine.uses_llm_queue)
            if handoff.stopped_at is not None and splitter.ingest is not None:
                handed = handoff.hand_on(tasks, splitter.ingest, task, correlation_id)
                reason = "" if handed else "another copy of this split went on"
                return SplitOutcome(task.task_id, "handed-on" if handed else "skipped", reason=reason)
            if first:
                tasks.teaching.begin(task.tenant, task.task_id, sample_chunks=counter.chunks)
                counter.items = counter.total
    except UnusableFile as exc:
        return _fail(tasks, task, exc.code, exc.detail)
    except SourceChanged as exc:
        return _fail(tasks, task, "source-changed", str(exc))
    if counter.items == 0:
        return _fail(tasks, task, "empty-file", "the file holds no rows")
    if quoting:
        record_quote(RecordQuote(task, counter, share), splitter)
        return SplitOutcome(task.task_id, "quoted", items=counter.items, chunks=counter.chunks)

    recorded = tasks.record_split(
        task.tenant,
        task.task_id,
        total=counter.items,
        chunk_count=counter.chunks,
        text_field=rows.text_field,
        columns=list(rows.columns),
        encoding=rows.encoding,
        delimiter=rows.delimiter,
    )
    metrics.add_metric(name="ItemsQueued", unit=MetricUnit.Count, value=counter.items)
    logger.info(
        "file split",
        extra={"tenant": task.tenant, "task_id": task.task_id, "items": counter.items, "chunks": counter.chunks},
    )
    # Every chunk (or the teaching sample) may have been counted before the total was known: then
    # asking is ours.
    if recorded is not None and (recorded.needs_finalizing or recorded.needs_teaching):
        finalizer.request(task.tenant, task.task_id, correlation_id)
    return SplitOutcome(task.task_id, "split", items=counter.items, chunks=counter.chunks)


def _task_for_upload(
    source: SourceObject, info: ObjectInfo, tasks: TaskRepository, correlation_id: str | None
) -> Task | SplitOutcome:
    assert source.task_id is not None
    task = tasks.get(source.tenant, source.task_id)
    if task is None or task.type is not TaskType.BATCH:
        logger.warning("upload for an unknown task ignored", extra={"tenant": source.tenant, "task_id": source.task_id})
        return SplitOutcome(source.task_id, "skipped", reason="no such batch task")
    if task.chunk_count is not None or task.status.is_terminal:
        return SplitOutcome(task.task_id, "skipped", reason="already split")
    # The upload URL named one key: any other object under the task's prefix is not its file.
    if task.filename is None or source.key != upload_key(task.tenant, task.task_id, task.filename):
        return _fail(tasks, task, "source-mismatch", "the uploaded object's key is not the one this task was given")
    # A split that died part-way is redone from the start (chunks are counted once whatever
    # happens), but only on the very file it began with.
    claimed = tasks.claim_source(task, source_key=source.key, source_etag=info.etag, correlation_id=correlation_id)
    if claimed is None:
        return SplitOutcome(task.task_id, "skipped", reason="task is not waiting for this file")
    return claimed


def _task_for_drop(
    source: SourceObject,
    info: ObjectInfo,
    delivery: Delivery,
    tasks: TaskRepository,
    input_files: InputFiles,
    settings: Settings,
    correlation_id: str | None,
    drops: DropChecks,
) -> Task | SplitOutcome:
    task_id = drop_task_id(input_files.bucket, source.key, _drop_identity(info, delivery))
    file_format = FileFormat.from_filename(source.filename)
    invalid_options = None
    file_fields: dict[str, Any] = {}
    try:
        reading = SidecarReading(input_files, settings, tasks, models=drops.models)
        options, file_fields = sidecar_options(ReadSidecar(source), reading)
    except BadSidecar as exc:
        options, invalid_options = None, exc.detail
    if file_fields.get("format"):
        file_format = FileFormat(file_fields["format"])
    if options is None:
        # A drop without (valid) options: the deployment's default engine, where it can run.
        engine = drop_engine(EngineParts(settings))
        requested = OptionsRequest(engine=engine.name)
        if drops.models is not None:  # the tenant's default model, as a batch that names none gets
            requested = with_default_model(source.tenant, requested, engine.name, models=drops.models)
        options = engine.settle_options(AnalysisOptions.of(requested, engine=engine.name))
        notes = [note] if (note := engine.note()) else []
    else:
        notes = engine_notes(options, settings)
    task = Task.new(
        source.tenant,
        TaskType.DROP,
        TaskStatus.QUEUED,
        ttl_days=settings.task_ttl_days,
        task_id=task_id,
        correlation_id=correlation_id or task_id,
        filename=source.filename,
        format=file_format.value if file_format else None,
        text_field=file_fields.get("text_field"),
        id_field=file_fields.get("id_field"),
        source_key=source.key,
        source_etag=info.etag,
        options=options,
        notes=notes,
    )
    if tasks.create(task):
        metrics.add_metric(name="TasksCreated", unit=MetricUnit.Count, value=1)
        if invalid_options is not None:
            # A task all the same, so that the failure has an id, a receipt and an event.
            return _fail(tasks, task, "invalid-options", invalid_options)
        return task
    existing = tasks.get(source.tenant, task_id)
    if existing is None or existing.chunk_count is not None or existing.status.is_terminal:
        return SplitOutcome(task_id, "skipped", reason="duplicate event")
    return existing  # an earlier split died part-way: split again; chunks are counted once


def _drop_identity(info: ObjectInfo, delivery: Delivery) -> str:
    """What makes one drop of a key: the write its S3 event reports (its sequencer, else its time),
    so a duplicated event maps to one task and a new write, same bytes or not, to a new one. Not
    the object's current ETag: a duplicate of an event that arrives after the key was written
    again must still map to the task its first delivery made. Events with neither (hand-made
    ones) fall back to the object's version or ETag."""
    written = delivery.sequencer or delivery.event_time
    return f"event\n{written}" if written else info.version or info.etag


def _fail(tasks: TaskRepository, task: Task, code: str, detail: str) -> SplitOutcome:
    tasks.mark_error(task.tenant, task.task_id, TaskError(code=code, detail=detail))
    logger.warning("file rejected", extra={"tenant": task.tenant, "task_id": task.task_id, "code": code})
    return SplitOutcome(task.task_id, "error", reason=code)
