"""A client of a forking probe server: one long-lived process that imported the heavy libraries
once and forks a child per probe (tests/unit/test_quiet_functions.py, tests/packaging/
test_built_handlers.py), instead of a fresh interpreter per probe. The server's code is the
same for both (SERVER); the probe, the modules to preload and where from are the caller's. One JSON
request a line in (the child's environment, argv, and optionally its folder and search path), the
child's exit code a line out, its stdout and stderr in files."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# argv: the probe's code, a JSON list of folders to preload from (after the standard library), then
# the modules to preload. A module that fails to import is left for the child's own import to report.
SERVER = """
import json, os, sys, traceback
STANDARD_LIBRARY = [os.path.join(path, "") for path in sys.path]
sys.path.extend(json.loads(sys.argv[2]))
for name in sys.argv[3:]:
    try:
        __import__(name)
    except ImportError:
        pass
probe = compile(sys.argv[1], "<probe>", "exec")
answers = sys.stdout
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
        os.environ.clear()
        os.environ.update(request["env"])
        if "cwd" in request:
            os.chdir(request["cwd"])
        if "search_path" in request:
            sys.path[:] = [*STANDARD_LIBRARY, *request["search_path"]]
        sys.argv = ["-c", *request["argv"]]
        code = 0
        try:
            exec(probe, {"__name__": "__main__", "STANDARD_LIBRARY": STANDARD_LIBRARY})
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    answers.write(json.dumps(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])) + "\\n")
    answers.flush()
"""


def server_command(python: list[str], probe: str, preload_path: list[str], modules: list[str]) -> list[str]:
    """The command that starts SERVER with `python` (the interpreter and its flags)."""
    return [*python, "-c", SERVER, probe, json.dumps(preload_path), *modules]


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
