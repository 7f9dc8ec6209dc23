"""Properties of template.yaml that matter in production, read from the template itself.

Every expectation is derived from the template (Globals resolved the way SAM resolves them), so
adding a function, a queue or a route is checked without editing this file.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from tests.sam_template import (
    TEMPLATE_PATH,
    function_properties,
    inline_policies,
    load_template,
    referenced_logical_id,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

FUNCTION = "AWS::Serverless::Function"
QUEUE = "AWS::SQS::Queue"
BUCKET = "AWS::S3::Bucket"
TABLE = "AWS::DynamoDB::Table"
SERVERLESS_API = "AWS::Serverless::Api"

# Lambda's own defaults when neither the function nor Globals sets a value.
# SQS visibility timeout must cover retries of a whole batch: AWS recommends >= 6x the timeout.
VISIBILITY_FACTOR = 6
# Actions that AWS only allows on Resource "*" (none is in this template today; SAM adds X-Ray itself).
RESOURCE_STAR_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
        "cloudwatch:PutMetricData",
    }
)


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def events_of_type(template: dict[str, Any], event_type: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for function_id in resources_of_type(template, FUNCTION):
        for event_id, event in function_properties(template, function_id).get("Events", {}).items():
            if event["Type"] == event_type:
                yield function_id, event_id, event.get("Properties", {})


def policy_statements(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM statement anywhere in the template (function Policies and every PolicyDocument)."""
    if isinstance(node, dict):
        if "Statement" in node:
            statements = node["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                yield where, statement
        for key, value in node.items():
            yield from policy_statements(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from policy_statements(value, f"{where}[{index}]")


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def sqs_event_queues(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(function logical id, queue logical id) for every SQS event source."""
    return [
        (function_id, referenced_logical_id(props["Queue"]))
        for function_id, _, props in events_of_type(template, "SQS")
    ]


def dead_letter_queue_ids(template: dict[str, Any]) -> set[str]:
    return {
        referenced_logical_id(queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for queue in resources_of_type(template, QUEUE).values()
        if "RedrivePolicy" in queue.get("Properties", {})
    }


# --------------------------------------------------------------------------- whole template


def test_template_has_no_cfn_lint_findings() -> None:
    # Given the template as committed
    source = TEMPLATE_PATH.read_text(encoding="utf-8")
    # When cfn-lint checks it, informational rules included (what `sam validate --lint` runs, and more)
    matches = lint(source, config=ManualArgs(regions=["us-east-1"], include_checks=["I"]))
    # Then it reports nothing
    assert not matches, "\n".join(str(match) for match in matches)


def test_outputs_needed_by_clients_and_tools_exist(template: dict[str, Any]) -> None:
    # Given the stack outputs that clients, the tenant tooling and operators read
    needed = {"ApiUrl", "DataBucketName", "TasksTableName", "KeysTableName", "UsagePlanId", "WorkDeadLetterQueueUrl"}
    # When the template's outputs are listed
    outputs = set(template.get("Outputs", {}))
    # Then none is missing
    assert needed <= outputs, f"missing outputs: {sorted(needed - outputs)}"


# --------------------------------------------------------------------------- functions


def test_every_function_runs_python311_on_the_architecture_parameter_with_app_handler(
    template: dict[str, Any],
) -> None:
    # Given the Architecture parameter: x86_64 or arm64, x86_64 unless the deployer says otherwise
    parameter = template["Parameters"]["Architecture"]
    assert (parameter["AllowedValues"], parameter["Default"]) == (["x86_64", "arm64"], "x86_64")
    # And every function with Globals applied
    functions = resources_of_type(template, FUNCTION)
    assert functions, "the template defines no function"
    for function_id in functions:
        props = function_properties(template, function_id)
        # Then it runs on the runtime the layers are built for, on that architecture, from app.handler
        assert props.get("Runtime") == "python3.11", function_id
        assert props.get("Architectures") == [{"Ref": "Architecture"}], function_id
        assert props.get("Handler") == "app.handler", function_id
        assert props.get("Tracing") == "Active", function_id


def test_every_code_uri_folder_exists_with_an_app_module_defining_handler(template: dict[str, Any]) -> None:
    for function_id in resources_of_type(template, FUNCTION):
        # Given the folder a function's CodeUri points at
        code_uri = function_properties(template, function_id)["CodeUri"]
        assert isinstance(code_uri, str), f"{function_id}: CodeUri must be a local folder"
        folder = REPO_ROOT / code_uri
        # Then it exists inside the repository's functions/ folder
        assert folder.is_dir(), f"{function_id}: {code_uri} does not exist"
        assert folder.resolve().parent == (REPO_ROOT / "functions").resolve(), f"{function_id}: {code_uri}"
        # And its app.py defines a top-level `handler` (Handler is app.handler)
        module_name, _, attribute = function_properties(template, function_id)["Handler"].partition(".")
        app = folder / f"{module_name}.py"
        assert app.is_file(), f"{function_id}: {app.relative_to(REPO_ROOT)} is missing"
        tree = ast.parse(app.read_text(encoding="utf-8"))
        defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            defined |= {target.id for target in targets if isinstance(target, ast.Name)}
        assert attribute in defined, f"{function_id}: {app.relative_to(REPO_ROOT)} defines no {attribute!r}"


def test_every_function_gets_the_dependencies_and_domain_layers(template: dict[str, Any]) -> None:
    # Given the layers of the template, built by SAM for python3.11
    layers = resources_of_type(template, "AWS::Serverless::LayerVersion")
    for layer_id, layer in layers.items():
        build = layer.get("Metadata", {}).get("BuildMethod")
        assert "python3.11" in layer["Properties"].get("CompatibleRuntimes", []), layer_id
        assert (REPO_ROOT / layer["Properties"]["ContentUri"]).is_dir(), layer_id
        # for the functions' architecture; its build's (a literal sam build reads) the parameter's default
        assert layer["Properties"]["CompatibleArchitectures"] == [{"Ref": "Architecture"}], layer_id
        assert layer["Metadata"]["BuildArchitecture"] == template["Parameters"]["Architecture"]["Default"], layer_id
        if build == "makefile":
            # (the training layer: python3.11 wheels for Lambda's platform, pruned of their tests)
            makefile = (REPO_ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text()
            assert f"build-{layer_id}:" in makefile and "--python-version 3.11" in makefile, layer_id
            # and, unless LAYER_ARCHITECTURE says otherwise, for the layer's BuildArchitecture
            wheel_arch = {"x86_64": "x86_64", "arm64": "aarch64"}[layer["Metadata"]["BuildArchitecture"]]
            for chosen, arch in ((None, wheel_arch), ("arm64", "aarch64"), ("x86_64", "x86_64")):
                commands = subprocess.run(
                    ["make", "-n", f"build-{layer_id}", "ARTIFACTS_DIR=/nowhere"],
                    cwd=REPO_ROOT / layer["Properties"]["ContentUri"],
                    env={
                        **{k: v for k, v in os.environ.items() if k != "LAYER_ARCHITECTURE"},
                        **({"LAYER_ARCHITECTURE": chosen} if chosen else {}),
                    },
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                assert f"--platform manylinux2014_{arch} " in commands, (layer_id, chosen)
        else:
            assert build == "python3.11", layer_id
    # When each function's effective layers are resolved
    for function_id in resources_of_type(template, FUNCTION):
        used = {referenced_logical_id(layer) for layer in function_properties(template, function_id).get("Layers", [])}
        # Then every function has the third-party and the domain layer
        assert {"DependenciesLayer", "DomainLayer"} <= used, f"{function_id} uses {sorted(used)}"
        assert used <= set(layers), f"{function_id} uses an unknown layer: {sorted(used - set(layers))}"


def declared_settings(app: Path) -> tuple[set[str], set[str]]:
    """The REQUIRED_SETTINGS and OPTIONAL_SETTINGS tuples a handler module declares (read, not
    imported: importing would check them against this process's environment)."""
    declared: dict[str, set[str]] = {}
    for node in ast.parse(app.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("REQUIRED_SETTINGS", "OPTIONAL_SETTINGS"):
                declared[name] = set(ast.literal_eval(node.value))
    assert set(declared) == {"REQUIRED_SETTINGS", "OPTIONAL_SETTINGS"}, f"{app} declares {sorted(declared)}"
    return declared["REQUIRED_SETTINGS"], declared["OPTIONAL_SETTINGS"]


def test_each_function_gets_exactly_the_variables_its_code_declares(template: dict[str, Any]) -> None:
    from reviewpulse.settings import Settings

    fields = {name.upper() for name in Settings.model_fields}
    for function_id in resources_of_type(template, FUNCTION):
        # Given what the function's handler requires and may read
        properties = function_properties(template, function_id)
        required, optional = declared_settings(REPO_ROOT / properties["CodeUri"] / "app.py")
        # And what the template sets for it (Globals and its own)
        variables = properties.get("Environment", {}).get("Variables", {})
        ours = {name for name in variables if not name.startswith(("POWERTOOLS_", "AWS_"))}
        # Then every variable it requires is set for it
        assert required <= ours, f"{function_id}: required but not set {sorted(required - ours)}"
        # And every variable the template sets for it is one its code reads
        assert ours <= required | optional, f"{function_id}: set but never read {sorted(ours - required - optional)}"
        # And every declared name is a field of the settings model (a typo would be silently empty)
        assert required | optional <= fields, f"{function_id}: not settings {sorted((required | optional) - fields)}"
        # And the service identity for logs and metrics is set
        assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"} <= set(variables)


# --------------------------------------------------------------------------- queues and workers


def test_sqs_visibility_timeout_is_at_least_six_times_the_consumer_timeout(template: dict[str, Any]) -> None:
    queues = resources_of_type(template, QUEUE)
    pairs = sqs_event_queues(template)
    assert pairs, "no function consumes an SQS queue"
    for function_id, queue_id in pairs:
        # Given a function consuming a queue, and its effective timeout
        timeout = int(function_properties(template, function_id)["Timeout"])
        # When the queue's visibility timeout is read (SQS default 30 s)
        visibility = int(queues[queue_id]["Properties"].get("VisibilityTimeout", 30))
        # Then a message cannot reappear while a batch that holds it may still be running
        assert visibility >= VISIBILITY_FACTOR * timeout, (
            f"{queue_id} visibility {visibility}s < {VISIBILITY_FACTOR} x {function_id} timeout {timeout}s"
        )


def test_every_sqs_event_reports_batch_item_failures(template: dict[str, Any]) -> None:
    for function_id, event_id, props in events_of_type(template, "SQS"):
        # Given an SQS event source
        # Then one bad message does not make the whole batch retry
        assert "ReportBatchItemFailures" in props.get("FunctionResponseTypes", []), f"{function_id}.{event_id}"
        # And the batch size is within the SQS limit for a batching window
        assert 1 <= int(props.get("BatchSize", 10)) <= 10, f"{function_id}.{event_id}"


def test_consumed_queues_redrive_to_a_dead_letter_queue_that_outlives_them(template: dict[str, Any]) -> None:
    queues = resources_of_type(template, QUEUE)
    dead_letter_queues = dead_letter_queue_ids(template)
    for function_id, queue_id in sqs_event_queues(template):
        if queue_id in dead_letter_queues:
            continue
        # Given a queue a function consumes that is not itself a dead-letter queue
        props = queues[queue_id]["Properties"]
        # Then poison messages leave it after a bounded number of receives
        redrive = props.get("RedrivePolicy")
        assert redrive, f"{queue_id} (consumed by {function_id}) has no RedrivePolicy"
        assert 1 <= int(redrive["maxReceiveCount"]) <= 10, queue_id
        # And its dead-letter queue keeps messages longer than the queue does (SQS keeps the enqueue time)
        dead_letter_id = referenced_logical_id(redrive["deadLetterTargetArn"])
        retention = int(props.get("MessageRetentionPeriod", 345600))
        dlq_retention = int(queues[dead_letter_id]["Properties"].get("MessageRetentionPeriod", 345600))
        assert dlq_retention > retention, f"{dead_letter_id} retention {dlq_retention}s <= {queue_id} {retention}s"


def test_every_queue_is_encrypted_and_refuses_plain_http(template: dict[str, Any]) -> None:
    queue_policies = resources_of_type(template, "AWS::SQS::QueuePolicy")
    for queue_id, queue in resources_of_type(template, QUEUE).items():
        # Given a queue
        props = queue.get("Properties", {})
        # Then its messages are encrypted at rest
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, f"{queue_id} has no SSE"
        # And a queue policy denies requests without TLS
        denies_http = any(
            queue_id in {referenced_logical_id(q) for q in as_list(policy["Properties"]["Queues"])}
            and any(_denies_insecure_transport(s) for s in as_list(policy["Properties"]["PolicyDocument"]["Statement"]))
            for policy in queue_policies.values()
        )
        assert denies_http, f"{queue_id} accepts requests without TLS"


def _denies_insecure_transport(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition", {}).get("Bool", {})
    return statement.get("Effect") == "Deny" and str(condition.get("aws:SecureTransport")).lower() == "false"


def test_bucket_notifications_reach_the_ingest_queue(template: dict[str, Any]) -> None:
    queue_policies = resources_of_type(template, "AWS::SQS::QueuePolicy")
    for bucket_id, bucket in resources_of_type(template, BUCKET).items():
        configurations = bucket["Properties"].get("NotificationConfiguration", {}).get("QueueConfigurations", [])
        for configuration in configurations:
            # Given a bucket notification that targets a queue
            queue_id = referenced_logical_id(configuration["Queue"])
            # Then some function consumes that queue
            assert queue_id in {queue for _, queue in sqs_event_queues(template)}, f"nobody consumes {queue_id}"
            # And a queue policy lets S3 send to it, scoped to this account
            allowing = [
                (policy_id, statement)
                for policy_id, policy in queue_policies.items()
                if queue_id in {referenced_logical_id(q) for q in as_list(policy["Properties"]["Queues"])}
                for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"])
                if statement.get("Effect") == "Allow"
                and statement.get("Principal", {}).get("Service") == "s3.amazonaws.com"
                and "sqs:SendMessage" in as_list(statement.get("Action"))
            ]
            assert allowing, f"no policy lets S3 send to {queue_id}"
            for policy_id, statement in allowing:
                conditions = statement.get("Condition", {})
                assert "aws:SourceArn" in conditions.get("ArnLike", {}) | conditions.get("ArnEquals", {}), policy_id
                assert "aws:SourceAccount" in conditions.get("StringEquals", {}), policy_id
                # And the bucket is created only once S3 may deliver there (S3 checks on configuration)
                assert policy_id in as_list(bucket.get("DependsOn", [])), f"{bucket_id} must DependsOn {policy_id}"


# --------------------------------------------------------------------------- storage


def test_buckets_block_public_access_and_encrypt(template: dict[str, Any]) -> None:
    bucket_policies = resources_of_type(template, "AWS::S3::BucketPolicy")
    buckets = resources_of_type(template, BUCKET)
    assert buckets
    for bucket_id, bucket in buckets.items():
        # Given a bucket
        props = bucket["Properties"]
        # Then every public-access switch is on
        block = props.get("PublicAccessBlockConfiguration", {})
        for switch in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
            assert block.get(switch) is True, f"{bucket_id}.{switch}"
        # And ACLs are disabled
        rules = props.get("OwnershipControls", {}).get("Rules", [])
        assert {"ObjectOwnership": "BucketOwnerEnforced"} in rules, bucket_id
        # And objects are encrypted at rest
        encryption = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
        algorithms = {rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in encryption}
        assert algorithms & {"AES256", "aws:kms", "aws:kms:dsse"}, bucket_id
        # And a bucket policy refuses requests without TLS
        assert any(
            referenced_logical_id(policy["Properties"]["Bucket"]) == bucket_id
            and any(_denies_insecure_transport(s) for s in as_list(policy["Properties"]["PolicyDocument"]["Statement"]))
            for policy in bucket_policies.values()
        ), f"{bucket_id} accepts requests without TLS"
        # And incomplete multipart uploads do not pile up
        lifecycle = props.get("LifecycleConfiguration", {}).get("Rules", [])
        assert any("AbortIncompleteMultipartUpload" in rule for rule in lifecycle), bucket_id


def test_tables_are_encrypted_recoverable_and_tasks_expire(template: dict[str, Any]) -> None:
    tables = resources_of_type(template, TABLE)
    assert tables
    for table_id, table in tables.items():
        # Given a table
        props = table["Properties"]
        # Then it is encrypted, point-in-time recoverable and on-demand
        assert props.get("SSESpecification", {}).get("SSEEnabled") is True, table_id
        assert props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is True, table_id
        assert props.get("BillingMode") == "PAY_PER_REQUEST", table_id
        # And every key attribute of the table and its indexes is declared, and nothing else
        key_schemas = [props["KeySchema"]] + [index["KeySchema"] for index in props.get("GlobalSecondaryIndexes", [])]
        key_attributes = {key["AttributeName"] for schema in key_schemas for key in schema}
        declared = {attribute["AttributeName"] for attribute in props["AttributeDefinitions"]}
        assert declared == key_attributes, table_id
    # And tasks expire through DynamoDB TTL
    ttl = tables["TasksTable"]["Properties"].get("TimeToLiveSpecification", {})
    assert ttl.get("Enabled") is True and ttl.get("AttributeName"), "TasksTable has no TTL"


# --------------------------------------------------------------------------- IAM


def test_functions_have_only_inline_policy_statements(template: dict[str, Any]) -> None:
    for function_id in resources_of_type(template, FUNCTION):
        # Given a function's Policies
        policies = function_properties(template, function_id).get("Policies", [])
        for policy in inline_policies(policies):
            # Then each is an inline statement list: no managed policy (e.g. *FullAccess) and no SAM
            # policy template (e.g. DynamoDBCrudPolicy), whose grants are broader than the code needs
            assert isinstance(policy, dict) and set(policy) <= {"Version", "Statement"}, (
                f"{function_id}: {policy!r} is not an inline policy statement list"
            )


def test_no_allow_statement_uses_wildcard_actions(template: dict[str, Any]) -> None:
    statements = list(policy_statements(template["Resources"]))
    assert statements
    for where, statement in statements:
        # Given a statement that grants something
        if statement.get("Effect") != "Allow":
            continue  # Deny statements (deny plain HTTP) are meant to be broad
        # Then it names its actions: no "*", no "s3:*", no "dynamodb:Get*"
        assert "NotAction" not in statement, where
        for action in as_list(statement["Action"]):
            assert isinstance(action, str) and "*" not in action, f"{where}: wildcard action {action!r}"


def test_no_allow_statement_uses_resource_star_unless_the_action_requires_it(template: dict[str, Any]) -> None:
    for where, statement in policy_statements(template["Resources"]):
        # Given a statement that grants something
        if statement.get("Effect") != "Allow":
            continue
        # When it applies to every resource
        assert "NotResource" not in statement, where
        if "*" not in as_list(statement.get("Resource")):
            continue
        if "/KeyPolicy" in where:
            continue  # in a KMS key policy, "*" is the key itself, never every resource
        # Then every action is one AWS only grants on "*"
        actions = set(as_list(statement["Action"]))
        assert actions <= RESOURCE_STAR_ACTIONS, f"{where}: Resource '*' for {sorted(actions - RESOURCE_STAR_ACTIONS)}"


# --------------------------------------------------------------------------- API


def _api_routes(template: dict[str, Any]) -> list[dict[str, Any]]:
    apis = resources_of_type(template, SERVERLESS_API)
    routes = []
    for function_id, event_id, props in events_of_type(template, "Api"):
        assert "RestApiId" in props, f"{function_id}.{event_id} would create SAM's implicit API"
        api_id = referenced_logical_id(props["RestApiId"])
        api_auth = apis[api_id]["Properties"].get("Auth", {})
        event_auth = props.get("Auth", {})
        routes.append(
            {
                "function": function_id,
                "path": props["Path"],
                "method": props["Method"].upper(),
                "api": api_id,
                "authorizer": event_auth.get("Authorizer", api_auth.get("DefaultAuthorizer", "NONE")),
                "api_key_required": event_auth.get("ApiKeyRequired", api_auth.get("ApiKeyRequired", False)),
                "default_authorizer": api_auth.get("DefaultAuthorizer"),
            }
        )
    return routes


def test_health_is_the_only_public_route_and_v1_routes_use_the_default_authorizer(template: dict[str, Any]) -> None:
    # Given every API route of every function
    routes = _api_routes(template)
    assert routes
    # Then /health is public
    public = [route for route in routes if route["authorizer"] == "NONE"]
    assert [(r["path"], r["method"]) for r in public] == [("/health", "GET")], f"public routes: {public}"
    assert public[0]["api_key_required"] is False
    # And every /v1 route goes through the API's default authorizer and the tenant usage plan
    v1_routes = [route for route in routes if route["path"].startswith("/v1/")]
    assert v1_routes
    for route in v1_routes:
        assert route["default_authorizer"] and route["authorizer"] == route["default_authorizer"], route
        assert route["api_key_required"] is True, route
    # And no other route exists outside /v1 and /health
    assert {route["path"] for route in routes} - {route["path"] for route in v1_routes} == {"/health"}
    # And no two functions claim the same route
    keys = [(route["api"], route["path"], route["method"]) for route in routes]
    assert len(keys) == len(set(keys))


def test_api_keys_come_from_a_request_authorizer_and_a_usage_plan_throttles_them(template: dict[str, Any]) -> None:
    usage_plans = resources_of_type(template, "AWS::ApiGateway::UsagePlan")
    functions = resources_of_type(template, FUNCTION)
    for api_id, api in resources_of_type(template, SERVERLESS_API).items():
        props = api["Properties"]
        auth = props["Auth"]
        # Given the API's default authorizer
        authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]
        # Then it is a REQUEST Lambda authorizer on the X-Api-Key header, cached for a while
        assert authorizer["FunctionPayloadType"] == "REQUEST", api_id
        assert referenced_logical_id(authorizer["FunctionArn"]) in functions, api_id
        assert "X-Api-Key" in authorizer["Identity"]["Headers"], api_id
        assert int(authorizer["Identity"].get("ReauthorizeEvery", 300)) > 0, api_id
        # And the key that the usage plan meters is the one the authorizer returns
        assert props.get("ApiKeySourceType") == "AUTHORIZER", api_id
        assert props.get("TracingEnabled") is True, api_id
        # And a usage plan on the API's stage throttles each key
        plans = [
            plan
            for plan in usage_plans.values()
            for stage in plan["Properties"].get("ApiStages", [])
            if referenced_logical_id(stage["ApiId"]) == api_id
            and stage["Stage"] in ({"Ref": f"{api_id}.Stage"}, props["StageName"])
        ]
        assert plans, f"no usage plan is bound to {api_id}'s stage"
        for plan in plans:
            throttle = plan["Properties"].get("Throttle", {})
            assert "RateLimit" in throttle and "BurstLimit" in throttle, api_id


def test_authorizer_failures_answer_with_problem_json(template: dict[str, Any]) -> None:
    for api_id, api in resources_of_type(template, SERVERLESS_API).items():
        # Given the API's gateway responses
        responses = api["Properties"].get("GatewayResponses", {})
        for response_type in ("UNAUTHORIZED", "ACCESS_DENIED", "MISSING_AUTHENTICATION_TOKEN", "THROTTLED"):
            response = responses.get(response_type)
            assert response, f"{api_id} has no {response_type} gateway response"
            # Then each answers application/problem+json with a stable code
            headers = response.get("ResponseParameters", {}).get("Headers", {})
            assert headers.get("Content-Type") == "'application/problem+json'", response_type
            body = next(iter(response["ResponseTemplates"].values()))
            assert '"code": "' in body and '"status": ' in body, response_type
        assert responses["THROTTLED"]["StatusCode"] == 429


def test_the_sweeper_waits_out_every_queues_retries(template: dict[str, Any]) -> None:
    # Given each consumed queue's whole retry horizon (visibility timeout x receives before its DLQ)
    queues = resources_of_type(template, QUEUE)
    horizons = [
        int(props["VisibilityTimeout"]) * int(props["RedrivePolicy"]["maxReceiveCount"])
        for props in (queue["Properties"] for queue in queues.values())
        if "RedrivePolicy" in props
    ]
    # Then the least stall deadline the template allows is longer than all of them
    stall = template["Parameters"]["StallDeadlineMinutes"]
    assert int(stall["MinValue"]) * 60 > max(horizons)
    assert int(stall["Default"]) >= int(stall["MinValue"])


ROTATION_GRANT = [
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
]


def test_the_cursor_signing_secret_is_generated_and_readable_only_by_the_routes_that_page(
    template: dict[str, Any],
) -> None:
    import json

    # Given the routes whose documented query takes a cursor (openapi.json, checked against the app)
    documented = json.loads((REPO_ROOT / "openapi.json").read_text())["paths"]
    paging = {
        route["function"]
        for route in _api_routes(template)
        if any(p["name"] == "cursor" for p in documented[route["path"]][route["method"].lower()].get("parameters", []))
    }
    assert paging
    # And the secret that signs cursors: a random string CloudFormation generates per deployment
    (secret_id,) = resources_of_type(template, "AWS::SecretsManager::Secret")
    assert template["Resources"][secret_id]["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    # When we look at which functions may read it, and how
    readers = {}
    for function_id in resources_of_type(template, FUNCTION):
        for policy in inline_policies(function_properties(template, function_id).get("Policies", [])):
            for statement in policy["Statement"]:
                if {"Ref": secret_id} in as_list(statement["Resource"]):
                    readers[function_id] = (statement["Effect"], as_list(statement["Action"]), statement["Resource"])
    # Then exactly the paging functions may, with GetSecretValue on that one secret and nothing more,
    # and the rotation function, which alone may also write its versions
    (rotation,) = [
        r["Properties"] for r in resources_of_type(template, "AWS::SecretsManager::RotationSchedule").values()
    ]
    assert rotation["SecretId"] == {"Ref": secret_id}
    rotator = rotation["RotationLambdaARN"]["Fn::GetAtt"][0]
    assert readers.pop(rotator) == ("Allow", ROTATION_GRANT, {"Ref": secret_id})
    assert set(readers) == paging
    for grant in readers.values():
        assert grant == ("Allow", ["secretsmanager:GetSecretValue"], {"Ref": secret_id})
    # And exactly those functions are told where it is
    told = {
        function_id
        for function_id in resources_of_type(template, FUNCTION)
        if function_properties(template, function_id)["Environment"]["Variables"].get("CURSOR_SIGNING_SECRET")
        == {"Ref": secret_id}
    }
    assert told == paging | {rotator}


def test_the_splitter_knows_which_delivery_of_an_ingest_message_is_the_last(template: dict[str, Any]) -> None:
    # Given the queue the splitter consumes, and its redrive policy
    (queue_id,) = [queue for function, queue in sqs_event_queues(template) if function == "SplitFunction"]
    redrive = resources_of_type(template, QUEUE)[queue_id]["Properties"]["RedrivePolicy"]
    # Then the splitter is told the same maxReceiveCount, so that it ends a task it cannot split on
    # that delivery, before the message goes to the dead-letter queue
    variables = function_properties(template, "SplitFunction")["Environment"]["Variables"]
    assert int(variables["INGEST_MAX_RECEIVE_COUNT"]) == int(redrive["maxReceiveCount"])


# --------------------------------------------------------------------------- alarms and logs

ALARM = "AWS::CloudWatch::Alarm"
LOG_GROUP = "AWS::Logs::LogGroup"
# What every alarm notifies: the AlarmTopicArn parameter, or the stack's own topic when it is empty.
ALARM_TARGET = {"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}


def _alarms_on(template: dict[str, Any], namespace: str, metric: str) -> dict[str, dict[str, Any]]:
    """Alarm properties by the logical id their single dimension names (Ref or GetAtt)."""
    found: dict[str, dict[str, Any]] = {}
    for alarm in resources_of_type(template, ALARM).values():
        props = alarm["Properties"]
        if props.get("Namespace") != namespace or props.get("MetricName") != metric:
            continue
        for dimension in props.get("Dimensions", []):
            found[referenced_logical_id(dimension["Value"])] = props
    return found


def _log_group_of(template: dict[str, Any], function_id: str) -> dict[str, Any] | None:
    for group in resources_of_type(template, LOG_GROUP).values():
        if group["Properties"].get("LogGroupName") == {"Fn::Sub": f"/aws/lambda/${{{function_id}}}"}:
            return group
    return None


def alarm_and_log_gaps(template: dict[str, Any]) -> list[str]:
    """What the template leaves unwatched: a function without a retention-bounded log group or
    an errors alarm, a function with reserved concurrency and no throttles alarm, a dead-letter
    queue without a depth alarm, an alarm that notifies nobody (or someone else)."""
    gaps = []
    errors = _alarms_on(template, "AWS/Lambda", "Errors")
    throttles = _alarms_on(template, "AWS/Lambda", "Throttles")
    depth = _alarms_on(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    for function_id in resources_of_type(template, FUNCTION):
        group = _log_group_of(template, function_id)
        if group is None:
            gaps.append(f"{function_id}: no log group /aws/lambda/${{{function_id}}}")
        elif group["Properties"].get("RetentionInDays") is None:
            gaps.append(f"{function_id}: its log group never expires (no RetentionInDays)")
        elif group["Properties"]["RetentionInDays"] != {"Ref": "LogRetentionDays"}:
            # The parameter promises one retention for every function's logs: no group keeps its own.
            gaps.append(f"{function_id}: its log group's RetentionInDays is not the LogRetentionDays parameter")
        if function_id not in errors:
            gaps.append(f"{function_id}: no Errors alarm")
        if (
            "ReservedConcurrentExecutions" in function_properties(template, function_id)
            and function_id not in throttles
        ):
            gaps.append(f"{function_id}: reserved concurrency and no Throttles alarm")
    for queue_id in dead_letter_queue_ids(template):
        if queue_id not in depth:
            gaps.append(f"{queue_id}: dead-letter queue without a depth alarm")
    for alarm_id, alarm in resources_of_type(template, ALARM).items():
        for actions in ("AlarmActions", "OKActions"):
            if alarm["Properties"].get(actions) != [ALARM_TARGET]:
                gaps.append(f"{alarm_id}: {actions} is not the alarm topic")
    return gaps


def test_every_function_queue_and_alarm_is_watched(template: dict[str, Any]) -> None:
    # Given the template as committed (its functions and queues read from it, not listed here)
    assert resources_of_type(template, FUNCTION) and dead_letter_queue_ids(template)
    # When it is searched for anything unwatched
    gaps = alarm_and_log_gaps(template)
    # Then every function has a bounded log group and an errors alarm, every dead-letter queue a
    # depth alarm, and every alarm notifies the one alarm topic
    assert not gaps, "\n".join(gaps)


def test_the_next_function_or_queue_cannot_forget_its_alarms(template: dict[str, Any]) -> None:
    import copy

    # Given the template plus a new function, a function given reserved concurrency, a new queue
    # with its own dead-letter queue, and an alarm that notifies nobody - none of them watched
    grown = copy.deepcopy(template)
    resources = grown["Resources"]
    resources["NewFunction"] = copy.deepcopy(resources["HealthFunction"])
    resources["HealthFunction"]["Properties"]["ReservedConcurrentExecutions"] = 5
    resources["NewDeadLetterQueue"] = {"Type": QUEUE, "Properties": {}}
    resources["NewQueue"] = {
        "Type": QUEUE,
        "Properties": {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["NewDeadLetterQueue", "Arn"]}}},
    }
    some_alarm = next(alarm_id for alarm_id in resources if alarm_id.endswith("ErrorsAlarm"))
    del resources[some_alarm]["Properties"]["OKActions"]
    # When it is searched for anything unwatched
    gaps = "\n".join(alarm_and_log_gaps(grown))
    # Then each omission is named
    assert "NewFunction: no log group" in gaps
    assert "NewFunction: no Errors alarm" in gaps
    assert "HealthFunction: reserved concurrency and no Throttles alarm" in gaps
    assert "NewDeadLetterQueue: dead-letter queue without a depth alarm" in gaps
    assert f"{some_alarm}: OKActions is not the alarm topic" in gaps
    # And a log group that never expires is named too
    group = _log_group_of(grown, "AuthorizerFunction")
    assert group is not None
    del group["Properties"]["RetentionInDays"]
    assert "AuthorizerFunction: its log group never expires" in "\n".join(alarm_and_log_gaps(grown))
    # And so is one whose retention is its own, not the LogRetentionDays parameter
    group["Properties"]["RetentionInDays"] = 3653
    assert "AuthorizerFunction: its log group's RetentionInDays is not the LogRetentionDays parameter" in "\n".join(
        alarm_and_log_gaps(grown)
    )


# --------------------------------------------------------------------------- sections by feature

SECTION_LINE = re.compile(r"^  # section: ([a-z0-9-]+)\s*$")
RESOURCE_LINE = re.compile(r"^  ([A-Za-z0-9]+):\s*$")


def resource_sections(source: str) -> tuple[dict[str, str | None], list[str]]:
    """Each resource's section (the last `# section: <name>` line above it, None before the
    first), and the section names in the order they open."""
    lines = source.split("\n")
    start = lines.index("Resources:") + 1
    end = next(i for i in range(start, len(lines)) if lines[i][:1].isalpha())  # the next top-level key
    where: dict[str, str | None] = {}
    opened: list[str] = []
    current = None
    for line in lines[start:end]:
        if match := SECTION_LINE.match(line):
            current = match.group(1)
            opened.append(current)
        elif match := RESOURCE_LINE.match(line):
            where[match.group(1)] = current
    return where, opened


def section_gaps(template: dict[str, Any], where: dict[str, str | None], opened: list[str]) -> list[str]:
    """A resource outside every section, a section opened twice (its feature split up), or a
    function whose log group or errors alarm sits in another section than the function."""
    gaps = [f"{rid}: in no section" for rid in template["Resources"] if where.get(rid) is None]
    gaps += [f"section {name} opens more than once" for name in sorted({n for n in opened if opened.count(n) > 1})]
    errors = {
        function_id: alarm_id
        for alarm_id, alarm in resources_of_type(template, ALARM).items()
        for function_id in [_errors_alarm_function(alarm)]
        if function_id
    }
    for function_id in resources_of_type(template, FUNCTION):
        for what, rid in (
            ("log group", _log_group_id_of(template, function_id)),
            ("errors alarm", errors.get(function_id)),
        ):
            if rid is not None and where.get(rid) != where.get(function_id):
                gaps.append(f"{function_id} ({where.get(function_id)}): its {what} {rid} is in {where.get(rid)}")
    return gaps


def _errors_alarm_function(alarm: dict[str, Any]) -> str | None:
    props = alarm["Properties"]
    if props.get("Namespace") != "AWS/Lambda" or props.get("MetricName") != "Errors":
        return None
    return next((referenced_logical_id(d["Value"]) for d in props.get("Dimensions", [])), None)


def _log_group_id_of(template: dict[str, Any], function_id: str) -> str | None:
    name = {"Fn::Sub": f"/aws/lambda/${{{function_id}}}"}
    return next(
        (
            rid
            for rid, group in resources_of_type(template, LOG_GROUP).items()
            if group["Properties"].get("LogGroupName") == name
        ),
        None,
    )


def test_each_features_resources_stay_in_its_section(template: dict[str, Any]) -> None:
    # Given the template's text, in sections by feature
    where, opened = resource_sections(TEMPLATE_PATH.read_text(encoding="utf-8"))
    assert len(opened) > 1
    # When each resource is placed in its section
    gaps = section_gaps(template, where, opened)
    # Then every resource is in one, each section is one stretch, and each function's log group
    # and errors alarm are in the function's section
    assert not gaps, "\n".join(gaps)


def test_a_resource_outside_its_features_section_is_named(template: dict[str, Any]) -> None:
    # Given the template's sections with one errors alarm moved to another section, one log group
    # and one new resource left before the first section, and one section opened again
    where, opened = resource_sections(TEMPLATE_PATH.read_text(encoding="utf-8"))
    alarm_id = next(rid for rid, alarm in resources_of_type(template, ALARM).items() if _errors_alarm_function(alarm))
    function_id = _errors_alarm_function(template["Resources"][alarm_id])
    assert function_id is not None
    other = next(name for name in opened if name != where[alarm_id])
    log_group_id = _log_group_id_of(template, function_id)
    moved = {**where, alarm_id: other, log_group_id: None, "NewQueue": None}
    grown = {**template, "Resources": {**template["Resources"], "NewQueue": {"Type": QUEUE, "Properties": {}}}}
    # When it is checked
    gaps = "\n".join(section_gaps(grown, moved, [*opened, opened[0]]))
    # Then each is named
    assert f"its errors alarm {alarm_id} is in {other}" in gaps
    assert f"its log group {log_group_id} is in None" in gaps
    assert "NewQueue: in no section" in gaps
    assert f"section {opened[0]} opens more than once" in gaps
