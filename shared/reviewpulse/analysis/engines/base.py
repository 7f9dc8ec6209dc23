"""What every engine promises: the chunk it is given is answered item by item within a deadline.

An engine owns what depends on which engine a task chose: the work queue and chunk size of its
chunks, analysing a chunk, the writer of its report's summary and its extra CSV columns. The
registry (registry.py) builds the one a task's options name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from reviewpulse.analysis.llm.estimate import TokenEstimate
from reviewpulse.analysis.sentiment import Analysis, Analyzer, Usage

if TYPE_CHECKING:
    from reviewpulse.analysis.cache import ResultCache
    from reviewpulse.analysis.llm.request_engine import LlmEngine
    from reviewpulse.analysis.llm.spend_gate import SpendGate
    from reviewpulse.analysis.models.store import ModelStore
    from reviewpulse.analysis.options import AnalysisOptions
    from reviewpulse.settings import Settings

# Writes a report's executive summary from its facts (JSON): the text, or None, and what it cost.
SummaryWriter = Callable[[str], "tuple[str | None, Usage]"]


class AnalysisUnavailable(RuntimeError):
    """A transient failure of an engine: the whole chunk is retried by SQS."""


@dataclass(frozen=True)
class ItemFailure:
    """Why an item has no analysis: a stable code and a detail that never quotes its text."""

    code: str
    detail: str


Answer = Analysis | ItemFailure


@dataclass
class ChunkAnalysis:
    """One answer per key the caller gave, and what the LLM cost for them (zero without one)."""

    answers: dict = field(default_factory=dict)  # the caller's key → Analysis | ItemFailure
    usage: Usage = field(default_factory=Usage)


class Answerer(Protocol):
    """Anything that answers texts by key: an engine, or a wrapper around one (cache, fallback)."""

    def answer(
        self, tenant: str, texts: Mapping, options: AnalysisOptions, *, deadline: float | None = None
    ) -> ChunkAnalysis:
        """An answer for every key of `texts`; no LLM request starts past `deadline`
        (time.monotonic() seconds). Raises only AnalysisUnavailable, to have the chunk retried."""
        ...


class HasLanguage(Protocol):
    language: str | None


class Engine(Answerer, Protocol):
    name: str

    @property
    def uses_llm_queue(self) -> bool:
        """Its chunks go to the LLM work queue (capped concurrency, a longer timeout)."""
        ...

    @property
    def chunk_max_items(self) -> int: ...

    @property
    def spends_tokens(self) -> bool:
        """A task on it may call the LLM, so it shows what the LLM cost."""
        ...

    def unavailable_reason(self) -> str | None:
        """Why this deployment cannot run it, or None."""
        ...

    def note(self) -> str | None:
        """What a client should know about how this deployment runs it, or None."""
        ...

    def settle_options(self, options: AnalysisOptions) -> AnalysisOptions:
        """The options a task keeps: defaults filled in; raises ValidationFailed for options this
        engine does not take."""
        ...

    def summary_writer(self, deadline: float | None) -> SummaryWriter | None: ...

    def quote(self, texts: Mapping, options: AnalysisOptions, *, tenant: str = "") -> LlmShare:
        """How many of these texts it would send to the LLM, in which requests, at what tokens:
        estimated without sending any (analysis/llm/estimate.py). `tenant` finds the task's model."""
        ...

    def before_batch_api(self, tenant: str, texts: Mapping, options: AnalysisOptions) -> BatchPlan:
        """Batch API mode: the answers this engine settles without the LLM, and the texts it
        sends to the provider's Batch API (deterministic: the collector asks again and must get
        the same split)."""
        ...

    def csv_columns(self) -> list[str]: ...

    def csv_cells(self, result: HasLanguage) -> list[str]: ...


@dataclass(frozen=True)
class LlmShare:
    """The texts of a chunk an engine would send to the LLM, and the requests' estimated tokens."""

    items: int = 0
    tokens: TokenEstimate = field(default_factory=TokenEstimate)

    def __add__(self, other: LlmShare) -> LlmShare:
        return LlmShare(self.items + other.items, self.tokens + other.tokens)


class LanguageColumn:
    """For engines whose results carry the detected language (llm, auto): one CSV column of it."""

    def csv_columns(self) -> list[str]:
        return ["sentiment_language"]

    def csv_cells(self, result: HasLanguage) -> list[str]:
        return [result.language or ""]


@dataclass
class BatchPlan:
    settled: dict = field(default_factory=dict)  # key → Analysis | ItemFailure, answered without the LLM
    to_ask: dict = field(default_factory=dict)  # key → text, for the Batch API


@dataclass(frozen=True)
class EngineParts:
    """What engines are built from. Only `settings` is needed to route and split; the workers add
    the lexicon analyzer, the (lazily built) LLM client, the result cache, where tenants' models
    are loaded from and, per task, the spend gate its LLM requests are reserved and settled
    through."""

    settings: Settings
    lexicon: Analyzer | None = None
    llm: Callable[[], LlmEngine] | None = None
    cache: ResultCache | None = None
    spend: SpendGate | None = None
    models: ModelStore | None = None
