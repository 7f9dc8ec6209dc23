"""A client of a forking probe server: one long-lived process that imported the heavy libraries
once and forks a child per probe (tests/unit/test_quiet_functions.py, tests/packaging/
test_built_handlers.py), instead of a fresh interpreter per probe. The server's code is the
caller's; this is only the line protocol: one JSON request a line in, the child's exit code a line
out, its stdout and stderr in files."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


class ForkingProbes:
    def __init__(self, command: list[str], folder: Path, timeout: float, env: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.timeout = timeout
        self.count = 0
        self.server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
        self.reader = ThreadPoolExecutor(max_workers=1)

    def ask(self, request: dict[str, Any], args: Any) -> subprocess.CompletedProcess:
        """Run one probe (`request` plus where its output goes): its exit code, stdout and stderr."""
        self.count += 1
        out, err = self.folder / f"{self.count}.out", self.folder / f"{self.count}.err"
        self.server.stdin.write(json.dumps({**request, "stdout": str(out), "stderr": str(err)}) + "\n")
        self.server.stdin.flush()
        answer = self.reader.submit(self.server.stdout.readline).result(timeout=self.timeout)
        assert answer, "the probe server ended"
        return subprocess.CompletedProcess(args, json.loads(answer), out.read_text(), err.read_text())

    def close(self) -> None:
        self.server.stdin.close()
        self.server.wait(timeout=60)
        self.reader.shutdown()
