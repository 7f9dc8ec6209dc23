"""`reviewpulse keys …` against a stack found by name, on moto."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from reviewpulse.tenants.keys import KeyRepository
from reviewpulse_cli.main import main
from reviewpulse_tools.local.provision import provision


@pytest.fixture
def deployed(translated_template):
    """The keys table from template.yaml, a usage plan, and a stack whose outputs name them."""
    with mock_aws():
        local = provision(boto3.Session(), template=translated_template)
        plan = boto3.client("apigateway").create_usage_plan(
            name="tenants", throttle={"rateLimit": 20, "burstLimit": 40}
        )
        outputs = {"KeysTableName": local.ref("KeysTable"), "UsagePlanId": plan["id"]}
        template = {
            "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {name: {"Value": value} for name, value in outputs.items()},
        }
        boto3.client("cloudformation").create_stack(StackName="reviewpulse-dev", TemplateBody=json.dumps(template))
        yield local, plan["id"]


def test_create_prints_only_the_key_and_stores_its_hash(deployed, capsys):
    local, plan_id = deployed
    # When a key is created for a tenant of the stack
    assert main(["keys", "create", "--tenant", "acme", "--stack", "reviewpulse-dev"]) == 0
    out, err = capsys.readouterr()
    key = out.strip()
    # Then stdout holds the key alone, and the table knows it only by its hash
    assert out == key + "\n" and key.startswith("rp_") and len(key) > 40
    record = KeyRepository(local.ref("KeysTable"), boto3.client("dynamodb")).find(key)
    assert record is not None and record.tenant == "acme" and record.active and record.key_id in err
    scan = boto3.client("dynamodb").scan(TableName=local.ref("KeysTable"))["Items"]
    assert key not in json.dumps(scan)
    # And the tenant's usage key is registered with the usage plan
    plan_keys = boto3.client("apigateway").get_usage_plan_keys(usagePlanId=plan_id)["items"]
    assert len(plan_keys) == 1 and plan_keys[0]["value"] == record.usage_key


def test_a_second_key_shares_the_tenants_usage_key(deployed, capsys):
    local, plan_id = deployed
    main(["keys", "create", "--tenant", "acme", "--stack", "reviewpulse-dev"])
    main(["keys", "create", "--tenant", "acme", "--stack", "reviewpulse-dev"])
    first, second = capsys.readouterr().out.split()
    keys = KeyRepository(local.ref("KeysTable"), boto3.client("dynamodb"))
    assert first != second and keys.find(first).usage_key == keys.find(second).usage_key
    assert len(boto3.client("apigateway").get_usage_plan_keys(usagePlanId=plan_id)["items"]) == 1


def test_revoke_deactivates_one_key(deployed, capsys):
    local, _ = deployed
    main(["keys", "create", "--tenant", "acme", "--stack", "reviewpulse-dev"])
    key = capsys.readouterr().out.strip()
    keys = KeyRepository(local.ref("KeysTable"), boto3.client("dynamodb"))
    key_id = keys.find(key).key_id
    assert main(["keys", "revoke", "--tenant", "acme", "--key-id", key_id, "--stack", "reviewpulse-dev"]) == 0
    assert not keys.find(key).active
    # Another tenant cannot revoke it, and a second revoke finds nothing active
    assert main(["keys", "revoke", "--tenant", "acme", "--key-id", key_id, "--stack", "reviewpulse-dev"]) == 2
    assert "no single active key" in capsys.readouterr().err


def test_create_with_scopes_expiry_and_name_then_list_never_shows_the_key(deployed, capsys):
    local, _ = deployed
    stack = ["--stack", "reviewpulse-dev"]
    # When a read+analyze key expiring in 30 days and a full key are created
    argv = ["keys", "create", "--tenant", "acme", *stack, "--scopes", "read,analyze", "--expires", "30d"]
    assert main([*argv, "--name", "ingest service"]) == 0
    scoped = capsys.readouterr().out.strip()
    assert main(["keys", "create", "--tenant", "acme", *stack]) == 0
    full = capsys.readouterr().out.strip()
    keys = KeyRepository(local.ref("KeysTable"), boto3.client("dynamodb"))
    record = keys.find(scoped)
    assert (
        {s.value for s in record.scopes} == {"read", "analyze"}
        and record.expires_at
        and record.name == "ingest service"
    )
    assert {s.value for s in keys.find(full).scopes} == {"read", "analyze", "admin"} and keys.find(
        full
    ).expires_at is None
    # Then `keys list` shows each key's id, state, scopes, expiry and name, and neither key
    assert main(["keys", "list", "--tenant", "acme", *stack]) == 0
    listed = capsys.readouterr().out
    assert scoped not in listed and full not in listed
    rows = {line.split("\t")[0]: line.split("\t") for line in listed.splitlines()}
    assert rows[record.key_id][1:4] == ["active", "read,analyze", record.expires_at]
    assert rows[record.key_id][-1] == "ingest service"
    assert rows[keys.find(full).key_id][1:4] == ["active", "read,analyze,admin", "-"]


def test_expire_ends_a_key_now_and_list_says_so(deployed, capsys):
    local, _ = deployed
    main(["keys", "create", "--tenant", "acme", "--stack", "reviewpulse-dev"])
    key = capsys.readouterr().out.strip()
    keys = KeyRepository(local.ref("KeysTable"), boto3.client("dynamodb"))
    key_id = keys.find(key).key_id
    assert main(["keys", "expire", "--tenant", "acme", "--key-id", key_id, "--stack", "reviewpulse-dev"]) == 0
    assert keys.find(key).state() == "expired" and not keys.find(key).usable()
    main(["keys", "list", "--tenant", "acme", "--stack", "reviewpulse-dev"])
    assert capsys.readouterr().out.split("\t")[1] == "expired"


@pytest.mark.parametrize(
    "argv",
    [
        ["keys", "create", "--tenant", "acme", "--stack", "reviewpulse-dev", "--scopes", "read,write"],
        ["keys", "create", "--tenant", "acme", "--stack", "reviewpulse-dev", "--scopes", ","],
        ["keys", "create", "--tenant", "acme", "--stack", "reviewpulse-dev", "--expires", "yesterday"],
        ["keys", "create", "--tenant", "acme", "--stack", "reviewpulse-dev", "--expires", "2020-01-01T00:00:00Z"],
        ["keys", "create", "--tenant", "acme", "--stack", "reviewpulse-dev", "--name", "x" * 65],
        ["keys", "expire", "--tenant", "acme", "--stack", "reviewpulse-dev", "--key-id", "nothing"],
        ["keys", "create", "--tenant", "Bad Name!", "--stack", "reviewpulse-dev"],
        ["keys", "create", "--tenant", "acme", "--stack", "no-such-stack"],
        ["keys", "create", "--tenant", "acme"],
    ],
)
def test_user_errors_are_one_clear_line(deployed, capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("reviewpulse: ") and "Traceback" not in err
