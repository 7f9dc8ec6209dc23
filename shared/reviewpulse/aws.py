"""boto3 clients, created once per process and reused across invocations.

boto3 honours AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>), which is how the local stack
points the very same code at moto; nothing here knows whether it runs locally.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode backs off with jitter on throttling and transient errors.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)
