"""Every sample event in events/ replays through its function without error: the same files
`sam local invoke -e` takes where a container runtime exists."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from reviewpulse.tenants.keys import KeyRepository

EVENTS = sorted((Path(__file__).resolve().parents[2] / "events").glob("*.json"))


def functions_for(event_file: Path, runner) -> list[str]:
    """events/<function folder>[_variant].json → the functions whose CodeUri is that folder (the
    lexicon and LLM analyzers share one)."""
    folders: dict[str, list[str]] = {}
    for function in runner.stack.functions():
        folders.setdefault(runner.stack.function_code_dir(function).name, []).append(function)
    matches = [folder for folder in folders if event_file.stem == folder or event_file.stem.startswith(folder + "_")]
    assert matches, f"{event_file.name} names no function folder"
    return folders[max(matches, key=len)]


def test_every_function_has_an_event(runner):
    covered = {function for path in EVENTS for function in functions_for(path, runner)}
    assert covered == set(runner.stack.functions())


@pytest.mark.parametrize("event_file", EVENTS, ids=[p.stem for p in EVENTS])
def test_event_replays_through_its_function(event_file, runner, stack):
    # Given the key the sample authorizer event carries, registered for its tenant
    event = json.loads(event_file.read_text())
    keys = KeyRepository(stack.ref("KeysTable"), boto3.client("dynamodb"))
    sample_key = json.loads((event_file.parent / "authorizer.json").read_text())["headers"]["X-Api-Key"]
    keys.add(sample_key, "example")

    function = functions_for(event_file, runner)[0]
    if function == "CursorKeyRotationFunction":
        # The sample names a deployed secret's ARN; the rotation function rotates only its own.
        event["SecretId"] = stack.ref("CursorSigningSecret")

    # When the event is handed to its function
    result = runner.invoke(function, event)

    # Then the function answers as its trigger expects, without failures
    if "Records" in event and event["Records"][0].get("eventSource") == "aws:s3":
        assert result == {"records": len(event["Records"])}  # a bare S3 notification
    elif "Records" in event:
        assert result == {"batchItemFailures": []}
    elif event.get("source") == "aws.scheduler":
        # A scheduled function reports what its run did, as counts (the sweeper, the collector).
        assert set(result) in (
            {"examined", "ended", "models_failed"},
            {"tasks", "submitted", "answers", "counted", "failed"},
        )
        assert all(isinstance(count, int) and count >= 0 for count in result.values())
    elif function == "CursorKeyRotationFunction":
        assert result == {"step": event["Step"]}
    elif event.get("type") == "REQUEST":
        assert result["principalId"] == "example"
        assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"
        assert result["context"]["tenant"] == "example"
    else:
        assert result["statusCode"] < 500
        if result["statusCode"] >= 400:
            assert result["headers"]["content-type"] == "application/problem+json"
