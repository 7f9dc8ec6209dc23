"""How an API command finds the API: flags, then environment variables, then the local stack's
state file (read as plain JSON: finding the local stack loads none of its code)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from reviewpulse_cli.errors import UsageError

if TYPE_CHECKING:
    from reviewpulse_cli.client import ApiClient


def add_api_options(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
    sub.add_argument("--endpoint", help="API base URL (default: $REVIEWPULSE_ENDPOINT, else the local stack's)")
    sub.add_argument("--api-key", help="API key (default: $REVIEWPULSE_API_KEY, else the local stack's)")
    return sub


def open_client(args: argparse.Namespace) -> ApiClient:
    from reviewpulse_cli.client import ApiClient
    from reviewpulse_cli.local_state import read_state

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


def local_stack_table(state_path: Path | None, logical_id: str) -> str:
    """The running local stack's table `logical_id` (its AWS endpoint put into this process's
    environment for boto3): the stack the state file names, `--state` or the default one."""
    from reviewpulse_cli.local_state import STACK_NAME, aws_environment, read_state

    if state_path:
        os.environ["REVIEWPULSE_STATE"] = str(state_path)
    state = read_state()
    if state is None:
        where = f" with state file {state_path}" if state_path else ""
        raise UsageError(f"no local stack is running{where}: start one with `make dev`")
    os.environ.update(aws_environment(state["aws_endpoint"]))
    return f"{state.get('stack_name', STACK_NAME)}-{logical_id}"
