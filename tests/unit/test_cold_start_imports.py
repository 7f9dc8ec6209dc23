"""A queue function's cold start loads only what its first message needs (behaviour, not timing;
docs/figures.md, "Cold start", has the times and what each import costs).

Each handler is imported as Lambda imports it, in a fresh interpreter with its environment from
template.yaml; what it then holds in sys.modules is compared with what none of its first messages
needs at import: the lexicon's VADER, calibration and language model (built at the first text),
the LLM's client, prompt and SDK (at the first LLM chunk), a tenant model's features and trainer
(when a model is loaded), Powertools' parser models (built when pydantic is loaded before the batch
module), and, where the function's every message does not need them, the engines and the readers.
No boto3 client is made at import either: each is made at its first call (reviewpulse/aws.py).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.sam_template import REPO_ROOT, function_properties
from tests.unit.test_quiet_functions import TEMPLATE, environment

# Never at the import of a queue function's handler.
NEVER = (
    "vaderSentiment",
    "fasttext",
    "openai",
    "httpx",
    "reviewpulse.analysis.lexicon_analyzer",
    "reviewpulse.analysis.calibration",
    "reviewpulse.analysis.language",
    "reviewpulse.analysis.llm.client",
    "reviewpulse.analysis.llm.request_engine",
    "reviewpulse.analysis.models.features",
    "reviewpulse.analysis.models.training",
    "reviewpulse.analysis.models.artifact",
    "aws_lambda_powertools.utilities.parser.models",
)
# Loaded for a chunk analysed, a model ended, a task's rest read: not at the import of functions
# whose first message may need none of them (a skipped chunk, a dead letter, a sweep).
ENGINES_AND_READERS = (
    "reviewpulse.analysis.engines.registry",
    "reviewpulse.analysis.engines.llm",
    "reviewpulse.analysis.llm.prompt",
    "reviewpulse.privacy",
    "reviewpulse.ingest.readers",
    "ijson",
    "reviewpulse.usecases.spend",
)
NOT_AT_IMPORT = {
    "AnalyzeChunkFunction": NEVER + ENGINES_AND_READERS,
    "LlmAnalyzeChunkFunction": NEVER + ENGINES_AND_READERS,
    "DeadLetterFunction": NEVER + ENGINES_AND_READERS,
    "SweeperFunction": NEVER + ENGINES_AND_READERS,
    # Every message of theirs splits or merges a file of a task on some engine.
    "SplitFunction": NEVER,
    "FinalizeFunction": NEVER,
}
PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from reviewpulse import aws
print(json.dumps({"modules": sorted(sys.modules), "clients_made": aws._created.cache_info().currsize}))
"""


def imported(logical_id: str) -> dict:
    code_dir = REPO_ROOT / function_properties(TEMPLATE, logical_id)["CodeUri"]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(code_dir / "app.py")],
        env=environment(logical_id),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def loaded(modules: list[str], names: tuple[str, ...]) -> set[str]:
    """Which of `names` are loaded, a package counting as loaded when any module of it is."""
    return {name for name in names for module in modules if module == name or module.startswith(name + ".")}


@pytest.mark.parametrize("logical_id", sorted(NOT_AT_IMPORT))
def test_a_queue_functions_cold_start_loads_only_what_its_first_message_needs(logical_id):
    # Given a queue function of the template
    assert logical_id in TEMPLATE["Resources"]
    # When its handler module is imported, as Lambda does at a cold start
    report = imported(logical_id)
    # Then none of what its first message may not need is loaded, and no boto3 client is made yet
    assert not loaded(report["modules"], NOT_AT_IMPORT[logical_id])
    assert report["clients_made"] == 0


def test_the_probe_sees_what_a_handler_loads():
    # Given the analyzer's handler, which holds the task model and pydantic from its import
    report = imported("AnalyzeChunkFunction")
    # Then the probe reports them (so an empty answer above is not a probe that sees nothing)
    assert loaded(report["modules"], ("pydantic", "reviewpulse.tasks.model")) == {"pydantic", "reviewpulse.tasks.model"}
