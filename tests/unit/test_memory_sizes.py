"""Each function's MemorySize against what `make bench BENCH=power` measured (memory_sizes.json,
which a full run of that benchmark rewrites), and the benchmark's rule for choosing a size."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from reviewpulse_tools.bench import power
from reviewpulse_tools.bench.cost import load_prices

from tests.sam_template import TEMPLATE_PATH, function_properties, load_template

FUNCTION = "AWS::Serverless::Function"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    return json.loads(power.MEASURED.read_text())


def functions_of(template: dict[str, Any]) -> list[str]:
    return [name for name, resource in template["Resources"].items() if resource["Type"] == FUNCTION]


def test_every_function_was_measured_with_the_documented_headroom(template, measured) -> None:
    # Given the committed measurements
    # Then they cover every function of the template, and were chosen with the headroom power.py documents
    assert set(functions_of(template)) <= set(measured["functions"]), "run `make bench BENCH=power`"
    assert measured["headroom"] == power.HEADROOM


def test_every_memory_size_has_room_for_its_measured_peak_rss(template, measured) -> None:
    for name in functions_of(template):
        # Given a function's configured memory (its own or the Globals') and its measured peak RSS
        memory = int(function_properties(template, name)["MemorySize"])
        peak = measured["functions"][name]["peak_rss_mb"]
        # Then the memory is at least the peak times the headroom
        assert memory >= peak * power.HEADROOM, f"{name}: {memory} MB < {power.HEADROOM} × {peak:.0f} MB"


def test_every_memory_size_says_why_beside_it() -> None:
    # Given every MemorySize line of the template
    lines = [line for line in TEMPLATE_PATH.read_text().splitlines() if re.match(r"\s*MemorySize:", line)]
    assert lines
    # Then each has its reason in a comment beside it
    assert all("#" in line for line in lines), [line for line in lines if "#" not in line]


def sample(**overrides: float) -> dict[str, Any]:
    figures = {
        "invocations": 10,
        "cpu_mean_s": 0.05,
        "cpu_worst_s": 0.08,
        "cold_cpu_s": 0.9,
        "peak_rss_mb": 100.0,
        "aws_calls": 30,
        "llm_requests": 0,
        "llm_concurrency": 1,
    }
    return {**figures, **overrides}


def test_the_chosen_size_is_the_fastest_allowed_one_within_the_tolerance_of_the_cheapest() -> None:
    # Given a function's measurements priced at every size
    table = power.price_sizes(sample(), timeout_s=30, prices=load_prices())
    chosen = power.choose(table)
    allowed = [size for size, row in table.items() if row["allowed"]]
    cheapest = min(table[size]["usd_per_million"] for size in allowed)
    # Then the chosen size is allowed and costs at most the tolerance more than the cheapest allowed one
    assert table[chosen]["allowed"]
    assert table[chosen]["usd_per_million"] <= cheapest * (1 + power.TOLERANCE)
    # And no allowed size within that tolerance is faster
    affordable = [size for size in allowed if table[size]["usd_per_million"] <= cheapest * (1 + power.TOLERANCE)]
    assert all(table[chosen]["billed_s"] <= table[size]["billed_s"] for size in affordable)
    # And each allowed size has the headroom; a size too small for the peak RSS is never allowed however cheap
    assert all(size >= power.HEADROOM * 100.0 for size in allowed)
    assert not table[128]["allowed"]


def test_with_no_tolerance_the_cheapest_allowed_size_is_chosen() -> None:
    # Given a function's measurements priced at every size
    table = power.price_sizes(sample(), timeout_s=30, prices=load_prices())
    allowed = [size for size, row in table.items() if row["allowed"]]
    # When the choice tolerates no extra cost
    chosen = power.choose(table, tolerance=0.0)
    # Then it is the cheapest allowed size
    assert all(table[chosen]["usd_per_million"] <= table[size]["usd_per_million"] for size in allowed)


def test_a_wider_tolerance_never_chooses_a_slower_size() -> None:
    # Given a function's measurements priced at every size
    table = power.price_sizes(sample(cpu_mean_s=0.3), timeout_s=30, prices=load_prices())
    chosen = [power.choose(table, tolerance=t) for t in (0.0, 0.05, 0.2, 0.5, 1.0, 10.0)]
    # Then each wider tolerance chooses a size at least as fast as the narrower one's
    billed = [table[size]["billed_s"] for size in chosen]
    assert billed == sorted(billed, reverse=True)
    # And a CPU-bound function gets faster than its cheapest size within the documented tolerance
    assert table[power.choose(table)]["billed_s"] < table[chosen[0]]["billed_s"]


def test_a_per_file_function_is_priced_at_its_largest_invocation() -> None:
    # Given a function whose largest invocation is far above its mean (a file of MaxUploadBytes)
    figures = sample(cpu_mean_s=0.05, cpu_worst_s=13.0)
    prices = load_prices()
    # When it is priced as a per-file function and as a per-invocation one
    per_file = power.price_sizes(figures, timeout_s=900, prices=prices, per_file=True)
    mean = power.price_sizes(figures, timeout_s=900, prices=prices)
    # Then the per-file price is the large file's, and the choice is at least as fast as the mean's
    assert all(per_file[size]["billed_s"] > mean[size]["billed_s"] for size in power.SIZES)
    assert per_file[power.choose(per_file)]["billed_s"] <= per_file[power.choose(mean)]["billed_s"]


def test_a_size_whose_worst_case_nears_the_timeout_is_not_allowed() -> None:
    # Given a cold start of 2 CPU seconds and a 10 s timeout
    table = power.price_sizes(sample(cold_cpu_s=2.0), timeout_s=10, prices=load_prices())
    for size, row in table.items():
        # Then a size is allowed only when its worst case takes at most the timeout's share
        assert row["allowed"] == (size >= power.HEADROOM * 100.0 and row["worst_s"] <= power.TIMEOUT_SHARE * 10)
    # And the smallest sizes, at a fraction of a vCPU, are the ones it rules out
    assert not table[256]["allowed"] and table[1769]["allowed"]


def test_with_no_allowed_size_the_largest_is_chosen() -> None:
    # Given a function whose peak RSS no size can hold with the headroom
    table = power.price_sizes(sample(peak_rss_mb=5000.0), timeout_s=30, prices=load_prices())
    # Then the largest size is chosen
    assert power.choose(table) == max(power.SIZES)


def test_every_measured_size_is_the_rules_choice_from_the_recorded_figures(template, measured) -> None:
    prices = load_prices()
    for name in functions_of(template):
        if name in power.NOT_REPRESENTED:
            continue
        # Given a function's recorded figures, priced again as the benchmark prices them
        figures = measured["functions"][name]
        table = power.price_sizes(figures, figures["timeout_s"], prices, per_file=name in power.PER_FILE)
        # Then the rule chooses the size the template has and the benchmark recorded
        chosen = power.choose(table)
        assert chosen == figures["chosen_mb"] == int(function_properties(template, name)["MemorySize"]), name
