"""What LLM requests will cost before they are sent: the quote of a task, the reservation of one
request against a budget.

No tokenizer: tiktoken downloads its encodings at first use, which a Lambda function without
internet access (and this project's machines) cannot do, and shipping them would add megabytes
per model to the layer while still being wrong for any non-OpenAI endpoint. Tokens are estimated
from characters instead, with ratios calibrated against a real tokenizer, o200k_base (dev-time:
`python -m reviewpulse_tools.bench.tokens`; docs/llm-boundary.md says how far off it can be):

- a request's fixed part (system prompt, response schema, message framing) is its characters at
  PROMPT_CHARS_PER_TOKEN (instructions and JSON schema are denser in tokens than prose);
- the JSON the texts travel in is a few tokens per item;
- review prose is about CHARS_PER_TOKEN characters a token (OpenAI's own rule of thumb for English
  is four);
- an answer is a fixed number of tokens per item, plus some per aspect and for themes.

Texts are grouped into requests by prompt.request_groups, as the engine and the Batch API collector
group them, so a quote counts exactly the requests that will be sent.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

# Calibrated 2026-12-05 against o200k_base (OpenAI's gpt-4o family; npm's gpt-tokenizer) on the
# requests the engine sends for 500 sample reviews: fixed part 869 tokens counted, 7.04 tokens of JSON
# per item, 4.19 characters per review-text token, 45.4 answer tokens per item as compact JSON
# (rounded up: a reservation should err high). Held out: tweets +0.4 %, Amazon snippets +2.3 % on
# input. Re-measure with `python -m reviewpulse_tools.bench.tokens` (docs/llm-boundary.md).
# The fixed part is measured from the prompt itself (instructions and JSON schema: denser in tokens
# than prose), so an edited prompt changes the estimate with it.
PROMPT_CHARS_PER_TOKEN = 3.66
MESSAGE_FRAMING_TOKENS = 3  # per chat message
ITEM_OVERHEAD_TOKENS = 7  # {"id":"12","text":"…"}, between items
CHARS_PER_TOKEN = 4.2
OUTPUT_OVERHEAD_TOKENS = 5  # {"items": []}, counted compact
OUTPUT_TOKENS_PER_ITEM = 46  # id, label, score, confidence, language, empty lists
OUTPUT_TOKENS_PER_ASPECT = 20  # aspect, label and a short evidence quote
OUTPUT_TOKENS_FOR_THEMES = 3  # the fake names few themes; a real model more (up to three)


@dataclass(frozen=True)
class TokenEstimate:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: TokenEstimate) -> TokenEstimate:
        return TokenEstimate(
            self.requests + other.requests,
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
        )


@cache
def request_overhead_tokens() -> int:
    """A request's fixed part: the system prompt, the empty payload and the response schema."""
    # Imported here: TokenEstimate is in every engine's interface (engines/base.py), the prompt's
    # models only where a quote is made.
    from reviewpulse.analysis.llm.prompt import batch_messages, sentiment_format

    messages = batch_messages([], [], False)
    chars = sum(len(message["content"]) for message in messages) + len(json.dumps(sentiment_format()))
    return math.ceil(chars / PROMPT_CHARS_PER_TOKEN) + MESSAGE_FRAMING_TOKENS * len(messages)


def estimate_request(texts: Sequence[str], aspects: Sequence[str], themes: bool) -> TokenEstimate:
    """One sentiment request of these texts (its answer included)."""
    text_tokens = sum(math.ceil(len(text) / CHARS_PER_TOKEN) for text in texts)
    aspect_tokens = sum(math.ceil(len(aspect) / CHARS_PER_TOKEN) + 2 for aspect in aspects)
    input_tokens = request_overhead_tokens() + aspect_tokens + len(texts) * ITEM_OVERHEAD_TOKENS + text_tokens
    per_item = (
        OUTPUT_TOKENS_PER_ITEM + OUTPUT_TOKENS_PER_ASPECT * len(aspects) + (OUTPUT_TOKENS_FOR_THEMES if themes else 0)
    )
    return TokenEstimate(1, input_tokens, OUTPUT_OVERHEAD_TOKENS + per_item * len(texts))


def estimate_texts(
    texts: Mapping[str, str], aspects: Sequence[str], themes: bool, *, items_per_request: int
) -> TokenEstimate:
    """Every request the engine would send for these texts, as it groups them."""
    # request_groups is the one grouping of texts into requests: the engine, the Batch API
    # collector and the estimate all use it, so a quote counts exactly the requests that will be sent.
    from reviewpulse.analysis.llm.prompt import request_groups

    total = TokenEstimate()
    for group in request_groups(texts, items_per_request):
        total = total + estimate_request(list(group.values()), aspects, themes)
    return total
