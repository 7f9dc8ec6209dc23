"""How an API command finds the API: flags, then environment variables, then the local stack's
state file (read as plain JSON: finding the local stack loads none of its code)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from reviewpulse_tools.cli.errors import UsageError

if TYPE_CHECKING:
    from reviewpulse_tools.cli.client import ApiClient


def add_api_options(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
    sub.add_argument("--endpoint", help="API base URL (default: $REVIEWPULSE_ENDPOINT, else the local stack's)")
    sub.add_argument("--api-key", help="API key (default: $REVIEWPULSE_API_KEY, else the local stack's)")
    return sub


def open_client(args: argparse.Namespace) -> ApiClient:
    from reviewpulse_tools.cli.client import ApiClient
    from reviewpulse_tools.local.state import read_state

    state = read_state() or {}
    endpoint = args.endpoint or os.environ.get("REVIEWPULSE_ENDPOINT") or state.get("api_url")
    api_key = args.api_key or os.environ.get("REVIEWPULSE_API_KEY") or state.get("api_key")
    if not endpoint:
        raise UsageError(
            "no endpoint: pass --endpoint, set REVIEWPULSE_ENDPOINT, or start the local stack (`make dev`)"
        )
    if not api_key:
        raise UsageError("no API key: pass --api-key or set REVIEWPULSE_API_KEY")
    return ApiClient(endpoint, api_key)
