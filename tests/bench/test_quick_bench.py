"""`make bench` in quick mode, inside `make test`: every benchmark runs end to end at small sizes
and counts (the local-stack ones on one shared stack) and prints its table. A benchmark that breaks,
or whose work silently did not happen, fails the suite with its name. The figures' values are not
checked: they belong to the full `make bench` on a quiet machine (issue 26).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from reviewpulse_tools.bench.performance import BENCHMARKS, checked_report

ROOT = Path(__file__).resolve().parents[2]
QUICK = [sys.executable, "-m", "reviewpulse_tools.bench.performance", "--quick"]
# Each benchmark process may take this long: generous, for a busy CI machine (the whole quick run
# takes a few minutes on a quiet 2-core machine).
PROCESS_TIMEOUT_S = 1200


def quick_bench(which: list[str], json_file: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    """The quick run as `make bench-quick` starts it, with none of the shell's AWS or LLM settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "OPENAI_", "REVIEWPULSE_", "BENCH_")) and name != "DEFAULT_ENGINE"
    }
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    return subprocess.run(
        [*QUICK, *which, "--json", str(json_file), "--timeout", str(PROCESS_TIMEOUT_S)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def assert_ran(name: str, run: dict, stdout: str) -> None:
    """The benchmark ran, produced its figures and printed its table (what each test below holds)."""
    assert name not in run["failed"], f"benchmark {name!r} failed in quick mode: {run['failed'][name]}"
    assert name in run["figures"], f"benchmark {name!r} produced no figures in quick mode"
    assert checked_report(name, run["figures"][name]) in stdout, f"benchmark {name!r} printed no table"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict]:
    json_file = tmp_path_factory.mktemp("bench") / "figures.json"
    done = quick_bench([], json_file)
    if not json_file.exists():
        pytest.fail(f"the quick bench wrote no figures (exit {done.returncode}): {done.stderr[-4000:]}")
    return done, json.loads(json_file.read_text())


def test_the_quick_run_includes_every_benchmark_and_passes(quick_run):
    # Given `make bench-quick` with no benchmark named
    done, run = quick_run
    # Then it ran every benchmark there is, and exited 0 with none failed
    assert run["benchmarks"] == list(BENCHMARKS)
    assert (done.returncode, run["failed"]) == (0, {}), f"benchmarks failed in quick mode: {run['failed']}"


@pytest.mark.parametrize("name", BENCHMARKS)
def test_the_benchmark_runs_and_prints_its_figures(quick_run, name):
    # Given the quick run of every benchmark
    done, run = quick_run
    # Then this one did its work and its table is in the report
    assert_ran(name, run, done.stdout)


# Loaded by every Python process of the run below (sitecustomize): no key created is stored. Of the
# benchmarks run there only the splitter-memory one creates a key, for its drop tenant: as if that
# key had been removed.
NO_DROP_KEY = """
import reviewpulse.tenants.keys as keys
keys.KeyRepository.create = lambda self, tenant, usage_key=None: (keys.generate_api_key(), None)
"""


def test_a_broken_benchmark_fails_the_run_by_name_and_the_others_still_print(tmp_path):
    # Given the splitter-memory benchmark broken as issue 26 found it: its drop tenant has no key
    (tmp_path / "sitecustomize.py").write_text(NO_DROP_KEY)
    json_file = tmp_path / "figures.json"

    # When the quick run runs it between two benchmarks that work
    done = quick_bench(["lexicon", "memory", "analyze"], json_file, pythonpath=tmp_path)

    # Then the run fails, naming memory and why: its file was refused, so nothing was split
    run = json.loads(json_file.read_text())
    assert done.returncode == 1
    assert list(run["failed"]) == ["memory"]
    assert "not split whole" in run["failed"]["memory"]
    assert "memory" in done.stdout.splitlines()[-1]
    # And the quick-mode test's check fails with a message that names it
    with pytest.raises(AssertionError, match="benchmark 'memory' failed"):
        assert_ran("memory", run, done.stdout)
    # And the benchmarks before and after it still printed their tables
    for name in ("lexicon", "analyze"):
        assert_ran(name, run, done.stdout)


def test_the_cost_benchmark_prices_each_engine_from_what_its_batch_used(quick_run):
    # Given the quick run's cost benchmark (a small batch per engine on the shared stack)
    _, run = quick_run
    assert_cost_figures(run["figures"]["cost"])


def assert_cost_figures(cost: dict) -> None:
    # Then each engine's batch was recorded and priced on both architectures, every call it made
    # had a price in the table, and only the engines that send texts to the LLM paid for tokens
    assert list(cost["priced"]) == ["lexicon", "auto", "llm"]
    for engine, by_architecture in cost["priced"].items():
        x86, arm = by_architecture["x86_64"], by_architecture["arm64"]
        assert x86["unpriced_calls"] == {}, f"{engine}: calls with no price: {x86['unpriced_calls']}"
        assert x86["invocations"] > 0 and x86["infrastructure_usd"] > 0
        assert arm["line_items_usd"]["Lambda compute (GB-s)"] < x86["line_items_usd"]["Lambda compute (GB-s)"]
    lexicon, auto, llm = (cost["priced"][e]["x86_64"] for e in ("lexicon", "auto", "llm"))
    assert (lexicon["llm_share"], lexicon["llm_sync_usd"]) == (0, 0)
    assert llm["llm_share"] == 1 and llm["llm_sync_usd"] > 0
    assert 0 < auto["llm_share"] <= 1 and auto["llm_sync_usd"] > 0
