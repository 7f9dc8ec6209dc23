"""Rotating the cursor signing secret through its rotation function (Secrets Manager's four steps)
while clients page: nothing in flight breaks, and the replaced key stops opening cursors once the
overlap is over."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import boto3
from reviewpulse.aws import reset_clients
from reviewpulse.signing_key import OVERLAP

from tests.integration.test_api import assert_problem

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def rotate(runner, secret_arn: str) -> str:
    token = str(uuid.uuid4())
    for step in STEPS:
        answer = runner.invoke(
            "CursorKeyRotationFunction", {"Step": step, "SecretId": secret_arn, "ClientRequestToken": token}
        )
        assert answer == {"step": step}
    return token


def fresh_environments() -> None:
    """As a new execution environment, or one whose 300 s cache of the key has run out."""
    reset_clients()


def test_rotation_keeps_cursors_in_flight_for_the_overlap_then_refuses_them(client, runner, stack):
    # Given a listing with a next page, its cursor signed with the deployment's first key
    for n in range(3):
        client.call("POST", "/v1/tasks", {"text": f"Nice {n}"})
    before = client.call("GET", "/v1/tasks", query={"limit": "1"}).json()["next_cursor"]
    secret = stack.ref("CursorSigningSecret")
    secretsmanager = boto3.client("secretsmanager")
    first_key = secretsmanager.get_secret_value(SecretId=secret)["SecretString"]

    # When the secret is rotated by its rotation function (and each step again, as a retry would)
    token = rotate(runner, secret)
    for step in STEPS:
        runner.invoke("CursorKeyRotationFunction", {"Step": step, "SecretId": secret, "ClientRequestToken": token})
    fresh_environments()

    # Then the current version holds a new key and the one it replaced
    rotated = json.loads(secretsmanager.get_secret_value(SecretId=secret, VersionStage="AWSCURRENT")["SecretString"])
    assert rotated["previous"] == first_key and rotated["key"] != first_key and len(rotated["key"]) >= 32
    versions = secretsmanager.describe_secret(SecretId=secret)["VersionIdsToStages"]
    assert "AWSCURRENT" in versions[token]
    # And the cursor issued before the rotation still pages, and new cursors page too
    assert client.call("GET", "/v1/tasks", query={"limit": "1", "cursor": before}).status == 200
    after = client.call("GET", "/v1/tasks", query={"limit": "1"}).json()["next_cursor"]
    assert after != before
    assert client.call("GET", "/v1/tasks", query={"limit": "1", "cursor": after}).status == 200

    # When the overlap is over (the rotation is dated back by it, as time would pass)
    rotated["rotated_at"] = (datetime.fromisoformat(rotated["rotated_at"]) - OVERLAP).isoformat()
    backdated = str(uuid.uuid4())
    secretsmanager.put_secret_value(
        SecretId=secret, ClientRequestToken=backdated, SecretString=json.dumps(rotated), VersionStages=["AWSPENDING"]
    )
    secretsmanager.update_secret_version_stage(
        SecretId=secret, VersionStage="AWSCURRENT", MoveToVersionId=backdated, RemoveFromVersionId=token
    )
    fresh_environments()
    # Then the old cursor answers invalid-cursor, and the new key's cursor still pages
    assert_problem(client.call("GET", "/v1/tasks", query={"limit": "1", "cursor": before}), 400, "invalid-cursor")
    assert client.call("GET", "/v1/tasks", query={"limit": "1", "cursor": after}).status == 200


def test_the_rotation_function_rotates_only_its_own_secret(runner, stack):
    other = boto3.client("secretsmanager").create_secret(Name="someone-elses", SecretString="x")["ARN"]
    try:
        runner.invoke(
            "CursorKeyRotationFunction", {"Step": "createSecret", "SecretId": other, "ClientRequestToken": "t"}
        )
    except Exception as exc:  # the function fails: Secrets Manager sees the step fail
        assert "cursor signing secret only" in str(exc)
    else:
        raise AssertionError("the rotation function accepted another secret")
    assert boto3.client("secretsmanager").get_secret_value(SecretId=other)["SecretString"] == "x"
