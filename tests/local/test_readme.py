"""The README runs as written: each of its shell blocks, against the local stack, with only the
endpoint and the key filled in (`API`, `KEY`). A block that must not run here says so on its
first line (`# not run by the README test: <why>`); every other one must run to its end with
every command succeeding and every HTTP answer below 400."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOT_RUN = "# not run by the README test:"
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)
# A curl that notes every HTTP status it gets (on stderr, which blocks never redirect), so the
# test sees an answer `curl -s` would let pass silently.
CURL_WRAPPER = """#!/bin/sh
exec /usr/bin/curl -w '%{stderr}HTTP_STATUS %{http_code}\\n' "$@"
"""


def readme_blocks() -> list[tuple[int, str]]:
    text = (ROOT / "README.md").read_text()
    return [(text[: m.start()].count("\n") + 1, m.group(1)) for m in BLOCK.finditer(text)]


BLOCKS = readme_blocks()
RUNNABLE = [(line, body) for line, body in BLOCKS if not body.startswith(NOT_RUN)]


def test_blocks_not_run_say_why_and_are_few():
    skipped = [body.splitlines()[0] for _, body in BLOCKS if body.startswith(NOT_RUN)]
    assert all(len(first) > len(NOT_RUN) + 10 for first in skipped), skipped
    # Most of the README runs: the blocks left out are fewer than those run
    assert len(skipped) < len(RUNNABLE)


def with_endpoint_and_key(body: str, api: str, key: str) -> str:
    """The README's placeholders, `API=…` and `KEY=…`, given the local stack's values."""
    body = re.sub(r"^API=\S+", f"API={api}", body, flags=re.MULTILINE)
    return re.sub(r"^KEY=\S+", f"KEY={key}", body, flags=re.MULTILINE)


@pytest.mark.parametrize(("line", "body"), RUNNABLE, ids=[f"README.md:{line}" for line, _ in RUNNABLE])
def test_the_block_runs_as_written(local, tmp_path, line, body):
    # Given a folder like a checkout (the project's environment and samples) and a curl that notes statuses
    for name in (".venv", "samples", "events"):
        (tmp_path / name).symlink_to(ROOT / name)
    bin_dir = tmp_path / "wrapped-bin"
    bin_dir.mkdir()
    (bin_dir / "curl").write_text(CURL_WRAPPER)
    (bin_dir / "curl").chmod(0o755)
    env = {
        **local["env"],
        "API": local["api_url"],
        "KEY": local["api_key"],
        "PATH": f"{bin_dir}{os.pathsep}{local['env']['PATH']}",
    }
    # When the block runs, each command required to succeed
    script = "set -e -o pipefail\n" + with_endpoint_and_key(body, local["api_url"], local["api_key"])
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    # Then it ran to its end, no command failed, no answer was an error
    report = f"README.md:{line}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    assert done.returncode == 0, report
    assert "Traceback" not in done.stderr, report
    statuses = [int(s) for s in re.findall(r"^HTTP_STATUS (\d+)$", done.stderr, re.MULTILINE)]
    assert all(status < 400 for status in statuses), report
    if "curl " in body:
        assert statuses, report
