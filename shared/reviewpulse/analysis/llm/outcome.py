"""What an LLM run returns: free of the openai package, so callers can import it cheaply."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from reviewpulse.analysis.sentiment import Analysis, Usage

UNAVAILABLE = "llm-unavailable"  # the requests failed, or the breaker was open
INVALID_ANSWER = "llm-invalid-response"  # answers came, but none valid for this item
# A budget had no room for the request: never a row's error, the task's on_budget_exhausted
# policy answers the item (the lexicon) or parks its chunk (pause).
BUDGET_EXHAUSTED = "llm-budget-exhausted"


@dataclass
class LlmOutcome:
    analyses: dict[str, Analysis] = field(default_factory=dict)  # by the caller's key
    unresolved: dict[str, str] = field(default_factory=dict)  # key → UNAVAILABLE | INVALID_ANSWER
    usage: Usage = field(default_factory=Usage)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_usage(self, input_tokens: int, output_tokens: int) -> None:
        with self._lock:
            self.usage.add(Usage(requests=1, input_tokens=input_tokens, output_tokens=output_tokens))
