"""The faults a load run switches on in the local stack's workers (tools/reviewpulse_tools/doubles/
faults.py): what REVIEWPULSE_FAULTS asks for is what a function's module gets."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest
from reviewpulse.usecases.analyze_chunk import AnalysisUnavailable
from reviewpulse_tools.doubles.faults import install, parse


def analyzer_module(calls: list) -> SimpleNamespace:
    def handler(event, context):
        calls.append(event)
        return {"batchItemFailures": [{"itemIdentifier": f"m{len(calls)}"}]}

    real = SimpleNamespace(analyze=lambda texts: ["ok"] * len(texts), engine="lexicon")
    return SimpleNamespace(handler=handler, analyzer=real, result_files=object, task_repository=object)


def test_an_unknown_fault_is_refused():
    with pytest.raises(ValueError, match="unknown fault"):
        parse("crash=0.1,explode=1")


def test_duplicate_hands_every_sqs_batch_twice_and_reports_both_deliveries_failures():
    # Given the analyzer's module with every batch duplicated
    calls: list = []
    module = analyzer_module(calls)
    install("AnalyzeChunkFunction", module, "duplicate=1")
    # When one SQS batch arrives
    answer = module.handler({"Records": [{"messageId": "x"}]}, None)
    # Then the handler ran twice on it, and the failures of both runs are reported
    assert len(calls) == 2
    assert {f["itemIdentifier"] for f in answer["batchItemFailures"]} == {"m1", "m2"}


def test_transient_fails_a_chunk_but_not_the_one_by_one_retries():
    # Given the analyzer's module with every engine request failing transiently
    module = analyzer_module([])
    install("AnalyzeChunkFunction", module, "transient=1")
    # Then a chunk of several texts fails as an unavailable engine, a single text does not
    with pytest.raises(AnalysisUnavailable):
        module.analyzer.analyze(["a", "b"])
    assert module.analyzer.analyze(["a"]) == ["ok"]
    assert module.analyzer.engine == "lexicon"


def test_a_crash_ends_the_environment_at_the_drawn_step():
    # Given an analyzer module that crashes on every invocation, in a process of its own
    script = textwrap.dedent(
        """
        from types import SimpleNamespace
        from reviewpulse_tools.doubles.faults import install

        class Files:
            def put_part(self, *args):
                print("written", flush=True)

        class Tasks:
            def record_chunk(self, *args):
                print("counted", flush=True)

        def handler(event, context):
            module.result_files().put_part()
            module.task_repository().record_chunk()
            return {}

        module = SimpleNamespace(handler=None, analyzer=None, result_files=Files, task_repository=Tasks)
        module.handler = handler
        install("AnalyzeChunkFunction", module, "crash=1")
        module.handler({"Records": [{}]}, None)
        print("survived", flush=True)
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    # Then it died as a killed environment does, before finishing the invocation
    assert run.returncode == 137
    assert "survived" not in run.stdout
