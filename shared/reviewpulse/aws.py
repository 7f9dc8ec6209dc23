"""boto3 clients, created once per process and reused across invocations.

boto3 honours AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>), which is how the local stack
points the very same code at moto; nothing here knows whether it runs locally.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode backs off with jitter on throttling and transient errors.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
# S3 signs presigned POSTs with SigV4 (AWS4-HMAC-SHA256): boto3's S3 default for them is still
# SigV2, which S3 accepts only in the oldest regions and AWS has been retiring.
_SERVICE_CONFIG = {"s3": Config(signature_version="s3v4")}

# (service, operation, params) for every AWS API call the domain makes: for benchmarks that count
# calls and tests that compare them with each function's IAM policy. Empty in production.
ApiCallListener = Callable[[str, str, dict[str, Any]], None]
_listeners: list[ApiCallListener] = []


@cache
def _session() -> boto3.session.Session:
    # One session for every client: its loader parses the shared endpoint and partition data once.
    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    """The process's client of `service`, made at its first use (see _LazyClient)."""
    return _LazyClient(service)


class _LazyClient:
    """Stands in for a boto3 client and makes it at its first use. Making one loads its service's
    model (25-35 ms of CPU each, docs/figures.md "Cold start"); a function wires all the clients
    its use case may need, and a cold start whose first message needs only some of them (a
    skipped chunk reads one table) should not pay for the others."""

    __slots__ = ("_service",)

    def __init__(self, service: str) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(_created(self._service), name)

    def __repr__(self) -> str:
        return f"<lazy boto3 client {self._service}>"


@cache
def _created(service: str) -> Any:
    config = _CONFIG.merge(_SERVICE_CONFIG[service]) if service in _SERVICE_CONFIG else _CONFIG
    created = _session().client(service, config=config)
    created.meta.events.register("before-parameter-build", _notify)
    return created


def add_api_call_listener(listener: ApiCallListener) -> None:
    _listeners.append(listener)


def remove_api_call_listener(listener: ApiCallListener) -> None:
    _listeners.remove(listener)


def _notify(params: dict[str, Any], model: Any, **_: Any) -> None:
    for listener in list(_listeners):
        listener(model.service_model.endpoint_prefix, model.name, params)


def reset_clients() -> None:
    """Forget every client and the session (tests change credentials and endpoints between runs)."""
    client.cache_clear()
    _created.cache_clear()
    _session.cache_clear()
