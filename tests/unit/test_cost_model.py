"""The cost model's arithmetic (reviewpulse_tools.bench.cost), on a small recorded run priced from
a made-up table: what is checked is how usage turns into dollars, not what AWS charges."""

from __future__ import annotations

import copy

import pytest
from reviewpulse_tools.bench.cost import (
    FunctionUse,
    RecordedRun,
    comparison_per_million,
    lambda_seconds,
    load_prices,
    price_run,
)
from reviewpulse_tools.local.lambda_environment import billed_units

# Round numbers, so each expectation below can be worked out by hand.
TABLE = {
    "region": "test-1",
    "date": "2000-01-01",
    "lambda": {"gb_second": {"x86_64": 0.001, "arm64": 0.0008}, "per_million_requests": 2.0, "mb_per_vcpu": 1000},
    "latency": {"aws_call_s": 0.01, "llm_request_s": 1.0},
    "api_gateway": {"per_million_requests": 10.0},
    "dynamodb": {"per_million_write_units": 1.0, "per_million_read_units": 0.5, "gb_month": 1.0},
    "sqs": {"per_million_requests": 0.5},
    "s3": {"per_thousand_put": 0.01, "per_thousand_get": 0.001, "gb_month": 0.1},
    "eventbridge": {"per_million_events": 3.0},
    "xray": {"per_million_traces": 4.0},
    "secretsmanager": {"per_ten_thousand_calls": 0.05},
    "llm": {"input_per_million": 1.0, "output_per_million": 4.0, "batch_factor": 0.5},
    "comparison": {
        "comprehend_per_unit": 0.0001,
        "comprehend_unit_chars": 100,
        "comprehend_min_units": 3,
        "azure_per_thousand_records": 1.0,
        "azure_record_chars": 1000,
        "google_per_thousand_units": 2.0,
        "google_unit_chars": 1000,
    },
}
M = 1_000_000


def recorded_run(**changes) -> RecordedRun:
    """A 200-review batch as the local stack records one: two functions, a few calls, tokens."""
    run = RecordedRun(
        engine="llm",
        reviews=200,
        functions={
            "AnalyzeChunkFunction": FunctionUse(invocations=4, cpu_s=1.0, memory_mb=500, aws_calls=10),
            "FinalizeFunction": FunctionUse(invocations=1, cpu_s=0.5, memory_mb=2000),
        },
        requests={
            "dynamodb:UpdateItem": 5,
            "dynamodb:GetItem": 2,
            "dynamodb:BatchWriteItem": 100,
            "sqs:SendMessageBatch": 3,
            "s3:PutObject": 4,
            "s3:GetObject": 6,
            "s3:DeleteObject": 9,
            "events:PutEvents": 2,
        },
        api_requests=3,
        stored_bytes={"7": 1024**3, "30": 2 * 1024**3},
        task_item_bytes=2500,
        input_tokens=10_000,
        output_tokens=1_000,
        llm_answered=150,
    )
    for name, value in changes.items():
        setattr(run, name, value)
    return run


def test_a_function_is_billed_its_cpu_time_at_the_vcpu_share_its_memory_buys():
    # Given a function at half a vCPU's memory, and one at twice it
    half = FunctionUse(invocations=10, cpu_s=2.0, memory_mb=500)
    double = FunctionUse(invocations=10, cpu_s=2.0, memory_mb=2000)
    # Then the first takes twice its CPU time, the second no less than its CPU time (one thread), each
    # plus 1 ms of rounding per invocation
    assert lambda_seconds(half, TABLE) == pytest.approx(4.0 + 0.010)
    assert lambda_seconds(double, TABLE) == pytest.approx(2.0 + 0.010)


def test_a_function_is_billed_the_time_it_waits_for_aws_and_for_the_llm_shared_among_its_requests():
    # Given a function that made 100 AWS calls and waited for 8 LLM requests, 4 at a time
    use = FunctionUse(invocations=1, cpu_s=0.0, memory_mb=1000, aws_calls=100, llm_requests=8, llm_concurrency=4)
    # Then it is billed 100 × 10 ms and 8 × 1 s / 4 (and the rounding)
    assert lambda_seconds(use, TABLE) == pytest.approx(1.0 + 2.0 + 0.001)


def test_lambda_line_items_add_each_functions_gb_seconds_and_invocations():
    # Given the recorded run
    priced = price_run(recorded_run(), TABLE)
    # Then compute is the sum of billed seconds × GB at the x86 price; requests and traces per invocation
    analyze = (1.0 / 0.5 + 10 * 0.01 + 4 * 0.001) * 500 / 1024
    finalize = (0.5 / 1.0 + 0.001) * 2000 / 1024
    assert priced["line_items_usd"]["Lambda compute (GB-s)"] == pytest.approx((analyze + finalize) * 0.001)
    assert priced["line_items_usd"]["Lambda requests"] == pytest.approx(5 * 2.0 / M)
    assert priced["line_items_usd"]["X-Ray traces"] == pytest.approx(5 * 4.0 / M)
    # And on arm64 only the GB-second price changes
    arm = price_run(recorded_run(), TABLE, "arm64")
    assert arm["line_items_usd"]["Lambda compute (GB-s)"] == pytest.approx((analyze + finalize) * 0.0008)
    assert arm["line_items_usd"]["Lambda requests"] == priced["line_items_usd"]["Lambda requests"]


def test_dynamodb_single_item_calls_are_priced_at_the_task_items_size_and_batch_calls_per_item():
    # Given a 2,500-byte task item: 3 write units (per 1 KB), 1 read unit (per 4 KB)
    priced = price_run(recorded_run(), TABLE)["line_items_usd"]
    # Then 5 updates cost 15 write units, 100 cache items 100; 2 reads 2 read units
    assert priced["DynamoDB writes"] == pytest.approx((5 * 3 + 100) * 1.0 / M)
    assert priced["DynamoDB reads"] == pytest.approx(2 * 1 * 0.5 / M)


def test_requests_of_sqs_s3_and_eventbridge_are_priced_by_their_class_and_deletes_are_free():
    priced = price_run(recorded_run(), TABLE)["line_items_usd"]
    assert priced["SQS requests"] == pytest.approx(3 * 0.5 / M)
    assert priced["S3 PUT/POST/LIST"] == pytest.approx(4 * 0.01 / 1000)
    assert priced["S3 GET"] == pytest.approx(6 * 0.001 / 1000)
    assert priced["EventBridge"] == pytest.approx(2 * 3.0 / M)
    assert priced["API Gateway requests"] == pytest.approx(3 * 10.0 / M)


def test_a_call_the_table_has_no_price_for_is_reported_not_dropped_silently():
    # Given a run that also called a service the table does not price
    run = recorded_run(requests={**recorded_run().requests, "kms:Decrypt": 7})
    # Then it is listed apart, and the totals are those of the run without it
    priced = price_run(run, TABLE)
    assert priced["unpriced_calls"] == {"kms:Decrypt": 7}
    assert priced["infrastructure_usd"] == pytest.approx(price_run(recorded_run(), TABLE)["infrastructure_usd"])


def test_storage_is_priced_for_the_days_each_object_is_kept():
    # Given 1 GB kept 7 days and 2 GB kept 30, and a task item kept the longest of them
    priced = price_run(recorded_run(), TABLE)["line_items_usd"]
    assert priced["S3 storage until lifecycle expiry"] == pytest.approx((1 * 7 / 30 + 2 * 30 / 30) * 0.1)
    assert priced["DynamoDB storage (task item until TTL)"] == pytest.approx(2500 / 1024**3 * 1.0)


def test_llm_tokens_at_the_configured_prices_and_the_batch_api_at_its_share():
    priced = price_run(recorded_run(), TABLE)
    sync = (10_000 * 1.0 + 1_000 * 4.0) / M
    assert priced["llm_sync_usd"] == pytest.approx(sync)
    assert priced["llm_batch_usd"] == pytest.approx(sync * 0.5)
    assert priced["llm_share"] == 150 / 200


def test_per_million_is_the_runs_cost_scaled_by_its_reviews():
    # Given the 200-review run
    priced = price_run(recorded_run(), TABLE)
    per_million = priced["per_million_usd"]
    # Then every line item is its run cost × 5,000, and the all-in figures add up
    for name, cost in priced["line_items_usd"].items():
        assert per_million[name] == pytest.approx(cost * M / 200)
    assert per_million["infrastructure"] == pytest.approx(sum(priced["line_items_usd"].values()) * M / 200)
    assert per_million["all-in, synchronous LLM"] == pytest.approx(
        per_million["infrastructure"] + per_million["LLM tokens (synchronous)"]
    )
    assert per_million["all-in, Batch API LLM"] == pytest.approx(
        per_million["infrastructure"] + per_million["LLM tokens (Batch API)"]
    )
    # And twice the reviews for the same usage halve it
    doubled = price_run(recorded_run(reviews=400), TABLE)["per_million_usd"]
    assert doubled["infrastructure"] == pytest.approx(per_million["infrastructure"] / 2)


@pytest.mark.parametrize(
    ("chars", "comprehend_units", "thousand_char_units"), [(50, 3, 1), (300, 3, 1), (450, 5, 1), (1500, 15, 2)]
)
def test_other_services_price_a_text_by_their_own_units(chars, comprehend_units, thousand_char_units):
    compared = comparison_per_million(TABLE, chars)
    assert compared["Amazon Comprehend"] == pytest.approx(M * comprehend_units * 0.0001)
    assert compared["Azure AI Language"] == pytest.approx(M * thousand_char_units * 1.0 / 1000)
    assert compared["Google Natural Language"] == pytest.approx(M * thousand_char_units * 2.0 / 1000)


def test_the_shipped_price_table_prices_every_call_of_a_recorded_run():
    # Given the project's price table (with the LLM prices a deployment configures)
    prices = load_prices()
    prices["llm"] = {"input_per_million": 0.15, "output_per_million": 0.6}
    # Then it names its region and date and prices every line of a run, on both architectures
    assert prices["region"] and prices["date"]
    for architecture in ("x86_64", "arm64"):
        priced = price_run(copy.deepcopy(recorded_run()), prices, architecture)
        assert priced["unpriced_calls"] == {}
        assert priced["total_usd"] > 0


def test_calls_are_counted_in_the_units_aws_bills():
    # SQS: a request per 64 KiB of payload, the messages of a batch together
    assert billed_units("sqs", "SendMessage", {"MessageBody": "x" * 100}) == 1
    assert billed_units("sqs", "SendMessage", {"MessageBody": "x" * (64 * 1024 + 1)}) == 2
    entries = [{"Id": str(n), "MessageBody": "x" * 30_000} for n in range(5)]
    assert billed_units("sqs", "SendMessageBatch", {"Entries": entries}) == 3
    # EventBridge: an event per entry; DynamoDB batches per item, transactions twice per item
    assert billed_units("events", "PutEvents", {"Entries": [{}, {}, {}]}) == 3
    writes = {"RequestItems": {"cache": [{"PutRequest": {}}] * 25}}
    assert billed_units("dynamodb", "BatchWriteItem", writes) == 25
    reads = {"RequestItems": {"cache": {"Keys": [{}] * 40}}}
    assert billed_units("dynamodb", "BatchGetItem", reads) == 40
    assert billed_units("dynamodb", "TransactWriteItems", {"TransactItems": [{}, {}]}) == 4
    assert billed_units("s3", "PutObject", {"Key": "k"}) == 1


def test_the_report_lists_every_line_item_of_every_engine_even_those_one_engine_did_not_use():
    from reviewpulse_tools.bench.cost import report

    # Given two engines' runs, only one of which read a secret
    plain = recorded_run(engine="lexicon", input_tokens=0, output_tokens=0, llm_answered=0)
    secret = recorded_run(requests={**recorded_run().requests, "secretsmanager:GetSecretValue": 1})
    priced = {run.engine: {a: price_run(run, TABLE, a) for a in ("x86_64", "arm64")} for run in (plain, secret)}
    figures = {
        "prices": {"region": "test-1", "date": "2000-01-01", "llm": TABLE["llm"]},
        "rows": 200,
        "review_chars": 300,
        "priced": priced,
        "comparison": comparison_per_million(TABLE),
    }
    # When the report is made
    text = report(figures)
    # Then every line item has a row with a figure for each engine
    for name in priced["llm"]["x86_64"]["per_million_usd"]:
        row = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
        assert row.count("$") == 2
