"""Configuration from the environment, validated once per process.

A plain pydantic model read from os.environ (field name upper-cased): the same validation as
pydantic-settings without its import cost, which every cold start would pay.

Resource names have no defaults: each function says at cold start which variables it requires and
which it may read (`require_settings`), so a function deployed without one fails at once, naming
it, instead of calling a resource that does not exist later. tests/unit/test_template.py holds
template.yaml to those declarations in both directions.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from reviewpulse.engine_names import EngineName


class Settings(BaseModel):
    """Every knob the functions read. Names match the template's environment variables."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    tasks_table_name: str = ""
    keys_table_name: str = ""
    data_bucket_name: str = ""
    work_queue_url: str = ""
    llm_work_queue_url: str = ""  # LLM tasks' chunks; the lexicon queue when not set
    finalize_queue_url: str = ""
    ingest_queue_url: str = ""  # where POST .../start asks for a quoted task's split
    budgets_table_name: str = ""  # tenants' monthly budgets and spend (tenants.budgets)
    idempotency_table_name: str = ""
    # The stack's event bus: every task that ends is announced on it (usecases.notify).
    event_bus_name: str = ""
    # Webhooks: the table, the KMS key that encrypts their secrets, the delivery queue and the
    # dead-letter queue deliveries are parked on once their retries run out.
    webhooks_table_name: str = ""
    webhook_secrets_key_id: str = ""
    webhook_queue_url: str = ""
    webhook_dead_letter_queue_url: str = ""
    # Addresses (CIDR, comma-separated) deliveries may reach although not public, http allowed:
    # set by the local stack for test receivers only; template.yaml never sets it.
    webhook_allowed_addresses: str = ""
    webhook_retry_base_seconds: float = Field(default=30.0, ge=0)
    webhook_retry_hours: float = Field(default=24.0, gt=0, le=72)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=30)
    # Tenant models: their records (and each tenant's default), and the queue the training
    # function reads. The training queue's maxReceiveCount (template.yaml): on that delivery a
    # model whose fitting keeps failing ends `failed` instead of its message going to the DLQ.
    models_table_name: str = ""
    training_queue_url: str = ""
    training_max_receive_count: int = Field(default=2, ge=1)

    # Rows whose text is longer than this become per-row errors (documented in the README). The
    # cap keeps one item well inside an SQS message.
    max_text_chars: int = Field(default=5000, ge=1, le=20_000)
    # Upper bound for a batch upload, enforced by the presigned POST policy.
    max_upload_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    upload_url_ttl_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    results_url_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # Items per work-queue message, and a byte cap that keeps a message under SQS's 256 KiB.
    chunk_max_items: int = Field(default=1000, ge=1)
    chunk_max_bytes: int = Field(default=200_000, ge=1_000, le=250_000)
    task_ttl_days: int = Field(default=30, ge=1)
    # The sweeper ends a batch whose file never came, and a task whose progress stopped.
    upload_deadline_minutes: int = Field(default=60, ge=1)
    # The ingest queue's redrive maxReceiveCount (template.yaml): on that delivery the splitter
    # ends a task it cannot split instead of letting the message go to the dead-letter queue.
    ingest_max_receive_count: int = Field(default=5, ge=1)
    stall_deadline_minutes: int = Field(default=300, ge=1)
    # A model still training past this age is failed by the sweeper (training-stalled).
    training_deadline_minutes: int = Field(default=150, ge=1)

    # Analysis engines. The lexicon engine needs nothing; the LLM engine needs a key from one of:
    # OPENAI_API_KEY (local runs), a Secrets Manager secret or an SSM SecureString (Lambda).
    default_engine: EngineName = "lexicon"
    # auto: items whose calibrated lexicon confidence is below this go to the LLM (a task may name
    # its own min_confidence). README, Engines, has the share sent and the accuracy per threshold.
    auto_min_confidence: float = Field(default=0.7, ge=0, le=1)
    llm_model: str = "gpt-4o-mini"
    openai_base_url: str = ""  # any OpenAI-compatible endpoint; empty means OpenAI itself
    openai_api_key: SecretStr = SecretStr("")
    llm_api_key_secret: str = ""  # Secrets Manager secret id holding the key
    llm_api_key_parameter: str = ""  # SSM SecureString name holding the key
    llm_items_per_request: int = Field(default=25, ge=1, le=100)
    # Requests in flight per worker, and the deployment's requests-per-minute limit (0: no pacing)
    # shared evenly by the llm_workers analyzers that may run at once (MaximumConcurrency).
    llm_concurrency: int = Field(default=4, ge=1, le=32)
    llm_requests_per_minute: int = Field(default=0, ge=0)
    llm_workers: int = Field(default=1, ge=1)  # LLM analyzers that share that limit
    llm_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    llm_max_retries: int = Field(default=3, ge=0, le=10)
    # After this many failed requests in a row the breaker opens for llm_breaker_reset_seconds;
    # meanwhile new items follow llm_fallback: the lexicon engine, or a per-row error.
    llm_breaker_failures: int = Field(default=3, ge=1)
    llm_breaker_reset_seconds: float = Field(default=60.0, gt=0)
    llm_fallback: Literal["lexicon", "fail"] = "lexicon"
    # Personal data is redacted from every text sent to an LLM; only a deployment that sets this
    # lets a task ask for options.redact_pii false (AllowUnredactedLlm).
    allow_unredacted_llm: bool = False
    # US dollars per million tokens, for the estimated cost shown on a task.
    llm_input_price_per_million: float = Field(default=0.15, ge=0)
    llm_output_price_per_million: float = Field(default=0.60, ge=0)
    # LLM chunks are smaller: a chunk must finish well inside the analyzer's timeout.
    llm_chunk_max_items: int = Field(default=200, ge=1)
    # Batch API mode (options.mode "batch"): its per-request records, and the item count above which
    # an llm or auto task that names no mode goes to the Batch API by itself (0: never).
    provider_batches_table_name: str = ""
    llm_batch_min_items: int = Field(default=0, ge=0)
    result_cache_table_name: str = ""
    result_cache_ttl_days: int = Field(default=30, ge=1)
    # Pagination cursors are signed with a per-deployment secret: the Secrets Manager secret
    # (Lambda, the local stack), or the key itself (runs without Secrets Manager).
    cursor_signing_secret: str = ""
    cursor_signing_key: SecretStr = SecretStr("")

    @property
    def llm_configured(self) -> bool:
        """A key source is configured (the key itself is only read where an LLM call happens)."""
        return bool(self.openai_api_key.get_secret_value() or self.llm_api_key_secret or self.llm_api_key_parameter)

    @classmethod
    def from_environment(cls) -> Settings:
        values = {name: os.environ[name.upper()] for name in cls.model_fields if name.upper() in os.environ}
        return cls.model_validate(values)


@cache
def get_settings() -> Settings:
    return Settings.from_environment()


class MissingSettings(RuntimeError):
    """A function started without a variable it requires (a deployment error, never a client's)."""


def require_settings(required: tuple[str, ...], optional: tuple[str, ...] = ()) -> Settings:
    """A function's settings, checked at cold start: every `required` variable is set and not empty;
    every name, required or optional, is one the settings model reads (a typo fails here, not in
    production). The names are the environment variables, as template.yaml spells them."""
    known = {name.upper() for name in Settings.model_fields}
    unknown = sorted((set(required) | set(optional)) - known)
    if unknown:
        raise MissingSettings(f"not settings this code reads: {', '.join(unknown)}")
    missing = [name for name in required if not os.environ.get(name)]
    if missing:
        raise MissingSettings(f"required environment variables are not set: {', '.join(missing)}")
    return get_settings()
