"""Build the LLM engine from settings: the key, the HTTP client with pacing, the breaker."""

from __future__ import annotations

import openai
from aws_lambda_powertools.utilities import parameters

from reviewpulse.analysis.llm.batch_api import BatchApi
from reviewpulse.analysis.llm.breaker import CircuitBreaker
from reviewpulse.analysis.llm.pacing import RequestPacer
from reviewpulse.analysis.llm.request_engine import LlmEngine
from reviewpulse.settings import Settings

# Powertools caches the key this long, so a rotated key is picked up without a cold start.
KEY_MAX_AGE_SECONDS = 300


class LlmNotConfigured(RuntimeError):
    pass


def api_key(settings: Settings) -> str:
    """OPENAI_API_KEY when set (local runs); else the Secrets Manager secret or SSM parameter."""
    if settings.openai_api_key.get_secret_value():
        return settings.openai_api_key.get_secret_value()
    if settings.llm_api_key_secret:
        return str(parameters.get_secret(settings.llm_api_key_secret, max_age=KEY_MAX_AGE_SECONDS))
    if settings.llm_api_key_parameter:
        return str(parameters.get_parameter(settings.llm_api_key_parameter, decrypt=True, max_age=KEY_MAX_AGE_SECONDS))
    raise LlmNotConfigured("no LLM key is configured")


class _Clients:
    """One OpenAI client per key: rebuilt only when the key changes (rotation)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._key: str | None = None
        self._client: openai.OpenAI | None = None

    def __call__(self) -> openai.OpenAI:
        key = api_key(self._settings)
        if self._client is None or key != self._key:
            if self._client is not None:
                self._client.close()
            self._client = openai.OpenAI(
                api_key=key,
                base_url=self._settings.openai_base_url or None,
                timeout=self._settings.llm_timeout_seconds,
                # The engine retries, so that no wait outlasts the function's deadline.
                max_retries=0,
            )
            self._key = key
        return self._client


def build_engine(settings: Settings) -> LlmEngine:
    return LlmEngine(
        _Clients(settings),
        model=settings.llm_model,
        items_per_request=settings.llm_items_per_request,
        concurrency=settings.llm_concurrency,
        breaker=CircuitBreaker(settings.llm_breaker_failures, settings.llm_breaker_reset_seconds),
        pacer=RequestPacer(settings.llm_requests_per_minute, workers=settings.llm_workers),
        max_retries=settings.llm_max_retries,
        timeout=settings.llm_timeout_seconds,
    )


def build_batch_api(settings: Settings) -> BatchApi:
    return BatchApi(_Clients(settings))
