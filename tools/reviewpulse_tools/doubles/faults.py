"""Faults in the local stack's workers, for load runs (`make soak`): the chaos of `make chaos`
(bench/chaos.py, in one interpreter) carried into the local stack's execution environments, where
a crash is the real thing: the environment's process dies mid-invocation.

Switched on by REVIEWPULSE_FAULTS in the environment of `reviewpulse dev`, a comma-separated
list of NAME=SHARE (0..1), all optional:

- `crash`: an analyzer invocation's environment exits (os._exit) at one of the four steps a chunk
  goes through (before or after its results are written, before or after its counts are
  recorded), picked at random; a finalizer's exits mid-merge. The whole batch is redelivered.
- `transient`: a request to the engine (a chunk of several texts) fails as an unavailable engine
  does; the chunk is retried.
- `duplicate`: an SQS batch is handed to the analyzer, finalizer or splitter twice in a row (the
  at-least-once delivery SQS promises).
- `seed`: the random seed (each environment adds its process id, so they differ).

Nothing here ships: the local stack's runner (local/lambda_environment.py) installs it in an environment
after the function's module is loaded, replacing the module-level collaborators.
"""

from __future__ import annotations

import os
import random
from typing import Any

FAULTS_VARIABLE = "REVIEWPULSE_FAULTS"
CRASH_STEPS = ("before results write", "after results write", "before count", "after count")
# The functions an SQS batch reaches that count rows; duplicates go to these.
_DUPLICATED = ("AnalyzeChunkFunction", "FinalizeFunction", "SplitFunction")


def parse(spec: str) -> dict[str, float]:
    shares = {"crash": 0.0, "transient": 0.0, "duplicate": 0.0, "seed": 7.0}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        if name not in shares:
            raise ValueError(f"{FAULTS_VARIABLE}: unknown fault {name!r} (known: {', '.join(shares)})")
        shares[name] = float(value)
    return shares


class _Dice:
    def __init__(self, shares: dict[str, float]) -> None:
        self.shares = shares
        self.random = random.Random(int(shares["seed"]) + os.getpid())  # noqa: S311 (not a secret)

    def roll(self, fault: str) -> bool:
        return self.random.random() < self.shares[fault]

    def crash_here(self, step: str, planned: list[str]) -> None:
        if planned and planned[0] == step:
            # The environment dies as a killed or out-of-memory one does: no handler runs, no
            # response; the runner reports Runtime.ExitError and starts a new one when needed.
            os._exit(137)


class _FlakyAnalyzer:
    def __init__(self, real: Any, dice: _Dice) -> None:
        self.real, self.dice = real, dice

    def analyze(self, texts: Any) -> Any:
        from reviewpulse.usecases.analyze_chunk import AnalysisUnavailable

        # A chunk's request fails, not the one-by-one retries that isolate a poison row in it.
        if len(texts) > 1 and self.dice.roll("transient"):
            raise AnalysisUnavailable("transient engine failure (injected)")
        return self.real.analyze(texts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _CrashingResultFiles:
    def __init__(self, real: Any, dice: _Dice, planned: list[str], finalizer: bool) -> None:
        self.real, self.dice, self.planned, self.finalizer = real, dice, planned, finalizer

    def put_part(self, *args: Any, **kwargs: Any) -> Any:
        self.dice.crash_here("before results write", self.planned)
        written = self.real.put_part(*args, **kwargs)
        self.dice.crash_here("after results write", self.planned)
        return written

    def put_file(self, *args: Any, **kwargs: Any) -> Any:
        if self.finalizer and self.dice.roll("crash"):
            os._exit(137)  # mid-merge
        return self.real.put_file(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _CrashingTasks:
    def __init__(self, real: Any, dice: _Dice, planned: list[str]) -> None:
        self.real, self.dice, self.planned = real, dice, planned

    def record_chunk(self, *args: Any, **kwargs: Any) -> Any:
        self.dice.crash_here("before count", self.planned)
        recorded = self.real.record_chunk(*args, **kwargs)
        self.dice.crash_here("after count", self.planned)
        return recorded

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def install(function: str, module: Any, spec: str) -> None:
    """Give `function`'s loaded module (its app.py) the faults `spec` asks for."""
    shares = parse(spec)
    dice = _Dice(shares)
    planned: list[str] = []  # the step this invocation dies at, if any (drawn per invocation)
    if function == "AnalyzeChunkFunction":
        module.analyzer = _FlakyAnalyzer(module.analyzer, dice)
        result_files, task_repository = module.result_files, module.task_repository
        module.result_files = lambda: _CrashingResultFiles(result_files(), dice, planned, finalizer=False)
        module.task_repository = lambda: _CrashingTasks(task_repository(), dice, planned)
    elif function == "FinalizeFunction":
        result_files = module.result_files
        module.result_files = lambda: _CrashingResultFiles(result_files(), dice, planned, finalizer=True)
    if function not in _DUPLICATED:
        return
    handler = module.handler

    def faulty(event: dict[str, Any], context: Any) -> Any:
        planned[:] = [dice.random.choice(CRASH_STEPS)] if dice.roll("crash") else []
        first = handler(event, context)
        if not (isinstance(event, dict) and event.get("Records") and dice.roll("duplicate")):
            return first
        second = handler(event, context)  # the same batch again, as a redelivery would bring it
        if not isinstance(first, dict) or not isinstance(second, dict):
            return second
        failures = {f["itemIdentifier"] for f in first.get("batchItemFailures", [])}
        failures |= {f["itemIdentifier"] for f in second.get("batchItemFailures", [])}
        return {"batchItemFailures": [{"itemIdentifier": i} for i in sorted(failures)]}

    module.handler = faulty


__all__ = ["CRASH_STEPS", "FAULTS_VARIABLE", "install", "parse"]
