"""What LLM tokens cost: the one place that turns token counts into US dollars.

Quotes, budgets and the cost shown on a task all price tokens here, so they cannot disagree.
Prices come from the deployment (per million tokens); the providers' Batch APIs bill a fixed
share of that (half, for OpenAI's), which `batch=True` applies.
"""

from __future__ import annotations

from dataclasses import dataclass

# OpenAI bills Batch API requests at 50% of the synchronous price.
BATCH_PRICE_FACTOR = 0.5


@dataclass(frozen=True)
class Prices:
    input_per_million: float
    output_per_million: float
    batch_factor: float = BATCH_PRICE_FACTOR

    @classmethod
    def of(cls, settings) -> Prices:
        """The prices a deployment's settings configure (any object with the two price fields)."""
        return cls(settings.llm_input_price_per_million, settings.llm_output_price_per_million)

    def cost_usd(self, input_tokens: int, output_tokens: int, *, batch: bool = False) -> float:
        cost = (input_tokens * self.input_per_million + output_tokens * self.output_per_million) / 1_000_000
        return cost * self.batch_factor if batch else cost

    def usage_cost_usd(self, usage) -> float:
        """What a Usage cost: its Batch API tokens at the batch price, the rest at the full price."""
        synchronous = self.cost_usd(
            usage.input_tokens - usage.batch_input_tokens, usage.output_tokens - usage.batch_output_tokens
        )
        return synchronous + self.cost_usd(usage.batch_input_tokens, usage.batch_output_tokens, batch=True)
