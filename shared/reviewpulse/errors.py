"""Domain errors with stable codes.

The API maps every ReviewPulseError to an RFC 7807 problem response in one place
(reviewpulse.api.problems); workers turn file-level errors into a task in status `error`.
Codes are part of the public contract: add new ones, never rename.
"""

from __future__ import annotations


class ReviewPulseError(Exception):
    """Base of every error the product reports to a client."""

    code = "internal-error"
    status = 500
    title = "Internal error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationFailed(ReviewPulseError):
    code, status, title = "validation-error", 422, "Request is not valid"


class NotFound(ReviewPulseError):
    code, status, title = "not-found", 404, "Not found"


class TaskNotReady(ReviewPulseError):
    code, status, title = "task-not-ready", 409, "Task has no results yet"


class InvalidCursor(ReviewPulseError):
    code, status, title = "invalid-cursor", 400, "Cursor is not valid"


class InvalidFields(ReviewPulseError):
    code, status, title = "invalid-fields", 400, "Unknown fields"


class TooLarge(ReviewPulseError):
    code, status, title = "too-large", 413, "Content too large"


class UnsupportedFormat(ReviewPulseError):
    code, status, title = "unsupported-format", 415, "Unsupported file format"


class Unauthorized(ReviewPulseError):
    code, status, title = "unauthorized", 401, "Missing or invalid API key"


class InsufficientScope(ReviewPulseError):
    """A valid key whose scopes do not include the one the route needs (reviewpulse.api.scopes)."""

    code, status, title = "insufficient-scope", 403, "API key lacks the scope"


class NotReady(ReviewPulseError):
    code, status, title = "not-ready", 503, "Service not ready"


class EngineUnavailable(ReviewPulseError):
    code, status, title = "engine-unavailable", 400, "Analysis engine not available"


class BatchModeUnavailable(ReviewPulseError):
    """options.mode batch on an engine that sends nothing to an LLM (lexicon, auto without one)."""

    code, status, title = "batch-mode-unavailable", 400, "Batch API mode not available"


class TeachUnavailable(ReviewPulseError):
    """options.teach where no model can be taught: not a batch, an engine other than auto or llm
    (or auto without an LLM), or the Batch API mode."""

    code, status, title = "teach-unavailable", 400, "Teaching a model not available"


class RedactionRequired(ReviewPulseError):
    """options.redact_pii false where the deployment does not allow unredacted texts to an LLM."""

    code, status, title = "redaction-required", 400, "Personal data must be redacted"


class ColumnNotFound(ReviewPulseError):
    """options.group_by or options.time_field names a column the input does not have."""

    code, status, title = "column-not-found", 400, "Column not found"


class CompareUnavailable(ReviewPulseError):
    """options.compare without a time_field to split by, or together with options.compare_to."""

    code, status, title = "compare-unavailable", 400, "Periods cannot be compared"


class TaskNotQuoted(ReviewPulseError):
    """POST /v1/tasks/{id}/start on a task that was not created with options.quote_only, or whose
    quote is not ready yet (its file is still being counted)."""

    code, status, title = "task-not-quoted", 409, "Task is not waiting with a quote"


class TaskNotPaused(ReviewPulseError):
    """POST /v1/tasks/{id}/resume on a task that is not paused."""

    code, status, title = "task-not-paused", 409, "Task is not paused"


class BudgetStillExhausted(ReviewPulseError):
    """POST /v1/tasks/{id}/resume while the budget that paused the task still has nothing left."""

    code, status, title = "budget-exhausted", 409, "The budget is still spent"


class LabelColumnNotFound(ReviewPulseError):
    """POST /v1/models names a label column the task's file does not have."""

    code, status, title = "label-column-not-found", 400, "Label column not found"


class ModelNotReady(ReviewPulseError):
    """A model that is still training or failed, named as the default or by a task."""

    code, status, title = "model-not-ready", 409, "Model is not ready"


class TooManyModels(ReviewPulseError):
    code, status, title = "model-limit", 409, "Too many models"


class UnusableFile(ReviewPulseError):
    """A whole file cannot be read: the task ends in status `error` with this code."""

    status, title = 422, "File cannot be processed"

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class TrainingDataRejected(ReviewPulseError):
    """Labelled rows a model cannot be trained on, found before any training time is spent
    (reviewpulse.analysis.models.training): `code` is one of TRAINING_ERROR_CODES."""

    status, title = 422, "Training data cannot be used"

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class ModelNotFound(ReviewPulseError):
    """options.model_id names no model of the caller's tenant (never another tenant's)."""

    code, status, title = "model-not-found", 404, "Model not found"


# Why a model cannot be trained on the rows given (TrainingDataRejected.code).
TRAINING_ERROR_CODES = (
    "no-training-rows",  # no labelled row to learn from
    "invalid-training-label",  # a label that is not positive, negative, neutral or mixed
    "one-class-only",  # every row has the same label: there is nothing to tell apart
    "too-few-per-class",  # a class has fewer rows than MIN_ROWS_PER_CLASS
)

# The catalogue of the codes a task or a row can end with. tests/unit/test_error_codes.py holds it
# to the code (every code raised is here) and to the README (every code here is documented there,
# and nothing else is). File-level codes (UnusableFile.code) and row-level codes (RowError.code).
FILE_ERROR_CODES = (
    "empty-file",  # no bytes, or no data rows (a header alone)
    "not-text",  # binary content
    "unsupported-format",  # extension or declared format not one of ingest.formats.FileFormat
    "sheet-not-found",  # options.sheet names no worksheet of the .xlsx workbook
    "text-column-not-found",  # no text column given and none could be detected
    "id-column-not-found",  # id_field names a column the CSV header (or the first JSON object) lacks
    "malformed-file",  # the file's structure is broken beyond one row (e.g. invalid JSON)
    "file-too-large",  # the object is larger than the deployment's maximum upload size
)
# Codes a task can end with that are not about the file's content.
TASK_ERROR_CODES = (
    "source-changed",  # the input object was replaced after the task began reading it
    "finalization-failed",  # the results could not be merged after repeated attempts
    "queue-unavailable",  # a single text could not be queued
    "split-failed",  # splitting failed on every delivery of its ingest message, for a reason not in the file
    "source-mismatch",  # the object's key is not the one its task was made for
    "upload-expired",  # the sweeper: a batch whose file never arrived
    "stalled",  # the sweeper: a task whose progress stopped for longer than any queue retries
    "invalid-options",  # a dropped file's options sidecar is not valid (as the API would refuse them)
)
ROW_ERROR_CODES = (
    "empty-text",
    "text-too-long",
    "invalid-encoding",
    "invalid-row",  # a row of the wrong shape (ragged CSV row, JSON item that is not an object or string)
    "invalid-conversation",  # a chat conversation with no readable messages (not an object, no or empty list)
    "analysis-failed",
    "dead-lettered",  # the row's chunk failed repeatedly and went to the dead-letter queue
    "llm-unavailable",  # LLM task, fallback policy `fail`: the LLM failed or its breaker was open
    "llm-invalid-response",  # LLM task, fallback policy `fail`: no valid answer after retries
    "invalid-label",  # options.label_field: a label the mapping cannot read (the row is still analysed)
    "model-not-found",  # the task's options.model_id names a model its tenant no longer has
)
# Codes a tenant model can fail with (status `failed`) besides the learning library's own
# (TRAINING_ERROR_CODES: no rows, one class, too few per class): all but the last are found before
# any fitting starts; nothing half-trained is ever served.
MODEL_ERROR_CODES = (
    "source-unavailable",  # the task's input file is gone (purged, expired) or was replaced
    "unreadable-labels",  # label values the documented mapping cannot read (the error names a few)
    "training-failed",  # fitting failed on every delivery of its training message
    "training-stalled",  # still training past the sweeper's deadline (the function timed out or crashed)
)
# Warnings a ready task can carry: something it could not do as asked while its results were still
# delivered (TaskWarning.code).
TASK_WARNING_CODES = (
    "group-by-column-not-found",  # options.group_by names a column the file does not have
    "time-field-not-found",  # options.time_field names a column the file does not have
    "label-field-not-found",  # options.label_field names a column the file does not have
    "labels-not-read",  # options.label_field: some rows' labels are invalid-label (the values are named)
    "baseline-not-found",  # options.compare_to's insights were gone when the task finished
    "periods-not-compared",  # options.compare: no time_field column, or a period without analysed items
    "budget-exhausted",  # a budget ran out: the items left were answered by the lexicon (lexicon-budget)
    "teach-failed",  # options.teach: no model could be asked for (the detail says why); the results stand
)
