"""Where a running local stack says how to reach it, readable without loading the stack itself.

The CLI reads this on every API command and the local stack (tools/reviewpulse_tools/local) writes
it; it lives with the CLI, which must not import the emulator, moto or the template tooling
(cfn-lint alone costs seconds to import).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository: <ROOT>/cli/reviewpulse_cli/local_state.py
# In a checkout the state file is the repository's; installed with `pip install .` (no repository
# around the package), the current folder's.
_STATE_HOME = ROOT if (ROOT / "template.yaml").is_file() else Path.cwd()
STACK_NAME = "reviewpulse-local"
REGION = "us-east-1"
DEFAULT_TENANT = "local"
LOCAL_ACCOUNT = "123456789012"  # the account id in the local stack's ARNs
# Where a running stack says how to reach it (REVIEWPULSE_STATE moves it, e.g. for tests).
DEFAULT_STATE_FILE = _STATE_HOME / ".local" / "stack.json"
# The local tenant's API key, kept beside the state file across restarts (the state file itself
# is removed when the stack stops), so a key pasted into a shell or a script keeps working.
API_KEY_FILE_NAME = "api-key"

# moto checks no signature; boto3 still wants credentials to sign with, and the local S3's POST
# policy check (s3.py) verifies presigned POSTs with this secret.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


def state_file() -> Path:
    return Path(os.environ.get("REVIEWPULSE_STATE") or DEFAULT_STATE_FILE)


def api_key_file() -> Path:
    return state_file().parent / API_KEY_FILE_NAME


def read_state() -> dict[str, str] | None:
    try:
        return json.loads(state_file().read_text())
    except (OSError, ValueError):
        return None


def aws_environment(endpoint: str) -> dict[str, str]:
    return {
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def local_usage_key(tenant: str) -> str:
    """What stands in locally for the tenant's API Gateway key in the usage plan."""
    return f"local-usage-{tenant}"
