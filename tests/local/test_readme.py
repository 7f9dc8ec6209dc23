"""The README and the docs run as written: each shell block of README.md and of every page under
docs/ (pending pages too), against the local stack, with only the endpoint and the key filled in
(`API`, `KEY`). A block that must not run here says so on its first line (`# not run by the
README test: <why>`); every other one must run to its end with every command succeeding and every
HTTP answer below 400. Blocks run in order: README.md first, then the pages in the order its "Where
to read on" lists them, then any other page by path (tests/documentation.py); a block may rely on
what an earlier block of its own page left on the stack (tasks, a ready batch), never on another
page's shell variables or files (each block runs in a folder of its own)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.documentation import ROOT, pages

NOT_RUN = "# not run by the README test:"
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)
# A curl that notes every HTTP status it gets (on stderr, which blocks never redirect), so the
# test sees an answer `curl -s` would let pass silently.
CURL_WRAPPER = """#!/bin/sh
exec /usr/bin/curl -w '%{stderr}HTTP_STATUS %{http_code}\\n' "$@"
"""


def doc_blocks() -> list[tuple[str, str]]:
    """(`page:line`, body) of every shell block, page by page in reading order."""
    found = []
    for path in pages():
        text = path.read_text()
        name = path.relative_to(ROOT).as_posix()
        found += [(f"{name}:{text[: m.start()].count(chr(10)) + 1}", m.group(1)) for m in BLOCK.finditer(text)]
    return found


BLOCKS = doc_blocks()
RUNNABLE = [(where, body) for where, body in BLOCKS if not body.startswith(NOT_RUN)]


def test_blocks_not_run_say_why_and_are_few():
    skipped = [body.splitlines()[0] for _, body in BLOCKS if body.startswith(NOT_RUN)]
    assert all(len(first) > len(NOT_RUN) + 10 for first in skipped), skipped
    # Most of the README and the docs run: the blocks left out are fewer than those run
    assert len(skipped) < len(RUNNABLE)


def with_endpoint_and_key(body: str, api: str, key: str) -> str:
    """The README's placeholders, `API=…` and `KEY=…`, given the local stack's values."""
    body = re.sub(r"^API=\S+", f"API={api}", body, flags=re.MULTILINE)
    return re.sub(r"^KEY=\S+", f"KEY={key}", body, flags=re.MULTILINE)


@pytest.mark.parametrize(("where", "body"), RUNNABLE, ids=[where for where, _ in RUNNABLE])
def test_the_block_runs_as_written(local, tmp_path, where, body):
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
    report = f"{where}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    assert done.returncode == 0, report
    assert "Traceback" not in done.stderr, report
    statuses = [int(s) for s in re.findall(r"^HTTP_STATUS (\d+)$", done.stderr, re.MULTILINE)]
    assert all(status < 400 for status in statuses), report
    if "curl " in body:
        assert statuses, report
