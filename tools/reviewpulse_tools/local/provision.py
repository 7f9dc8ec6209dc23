"""Create template.yaml's stateful resources (tables and their streams, queues, buckets, secrets) on any AWS endpoint.

Used with moto — in-process under `mock_aws` in the tests, or a moto server for the local stack —
so the deployed template stays the single source of truth for keys, indexes, TTL, redrive
policies and bucket notifications. (moto's own CloudFormation drops bucket notifications and TTL,
so it cannot do this job.)
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewpulse_cli.local_state import LOCAL_ACCOUNT

from reviewpulse_tools.local.template import Resolver, Template, load_template

TABLE = "AWS::DynamoDB::Table"
QUEUE = "AWS::SQS::Queue"
BUCKET = "AWS::S3::Bucket"
FUNCTION = "AWS::Lambda::Function"
EVENT_SOURCE_MAPPING = "AWS::Lambda::EventSourceMapping"
SECRETS_MANAGER_SECRET = "AWS::SecretsManager::Secret"  # noqa: S105 (a resource type)
EVENT_BUS = "AWS::Events::EventBus"
EVENT_RULE = "AWS::Events::Rule"
KMS_KEY = "AWS::KMS::Key"


@dataclass(frozen=True)
class QueueTrigger:
    function: str  # logical id
    queue: str  # logical id
    batch_size: int
    report_failures: bool


@dataclass(frozen=True)
class StreamTrigger:
    function: str  # logical id
    table: str  # logical id
    batch_size: int
    report_failures: bool
    starting_position: str  # TRIM_HORIZON or LATEST
    filters: tuple[dict[str, Any], ...]  # the mapping's FilterCriteria patterns (any one matches)


@dataclass
class ProvisionedStack:
    name: str
    region: str
    template: Template
    resolver: Resolver

    def ref(self, logical_id: str) -> Any:
        return self.resolver.refs[logical_id]

    def attribute(self, logical_id: str, name: str) -> Any:
        return self.resolver.attributes[logical_id][name]

    def functions(self) -> list[str]:
        return sorted(self.template.of_type(FUNCTION))

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        return self.template.resources[logical_id]["Properties"]

    def function_environment(self, logical_id: str) -> dict[str, str]:
        variables = self.function_properties(logical_id).get("Environment", {}).get("Variables", {})
        return {name: str(self.resolver.resolve(value)) for name, value in variables.items()}

    def function_code_dir(self, logical_id: str) -> Path:
        return self.template.code_dirs[logical_id]

    def queue_triggers(self) -> list[QueueTrigger]:
        triggers = []
        for mapping in self.template.of_type(EVENT_SOURCE_MAPPING).values():
            props = mapping["Properties"]
            source = props["EventSourceArn"]
            if not (isinstance(source, dict) and "Fn::GetAtt" in source):
                continue
            queue = source["Fn::GetAtt"][0]
            if self.template.resources.get(queue, {}).get("Type") != QUEUE:
                continue
            triggers.append(
                QueueTrigger(
                    function=props["FunctionName"]["Ref"],
                    queue=queue,
                    batch_size=int(props.get("BatchSize", 10)),
                    report_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                )
            )
        return triggers

    def stream_triggers(self) -> list[StreamTrigger]:
        """The functions that consume a table's DynamoDB stream, with their mapping's settings."""
        triggers = []
        for mapping in self.template.of_type(EVENT_SOURCE_MAPPING).values():
            props = mapping["Properties"]
            source = props["EventSourceArn"]
            if not (isinstance(source, dict) and "Fn::GetAtt" in source):
                continue
            table, attribute = source["Fn::GetAtt"]
            if self.template.resources.get(table, {}).get("Type") != TABLE or attribute != "StreamArn":
                continue
            patterns = props.get("FilterCriteria", {}).get("Filters", [])
            triggers.append(
                StreamTrigger(
                    function=props["FunctionName"]["Ref"],
                    table=table,
                    batch_size=int(props.get("BatchSize", 100)),
                    report_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                    starting_position=props.get("StartingPosition", "TRIM_HORIZON"),
                    filters=tuple(json.loads(f["Pattern"]) for f in patterns),
                )
            )
        return triggers


def provision(
    session: Any,
    *,
    stack_name: str = "reviewpulse-local",
    region: str = "us-east-1",
    template: Template | None = None,
    create: bool = True,
) -> ProvisionedStack:
    """Create the template's tables, queues, buckets and secrets through `session` (a boto3 Session).
    With create=False, only find the ones an earlier call created (to attach to a running stack)."""
    template = template or load_template(region=region)
    refs: dict[str, Any] = _Lenient(
        {
            "AWS::StackName": stack_name,
            "AWS::Region": region,
            "AWS::AccountId": LOCAL_ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            **template.parameters,
        }
    )
    attributes: dict[str, dict[str, Any]] = _LenientAttributes()
    resolver = Resolver(refs, attributes)
    stack = ProvisionedStack(stack_name, region, template, resolver)

    sqs = session.client("sqs", region_name=region)
    for logical, resource in template.of_type(QUEUE).items():
        props = resource.get("Properties", {})
        name = resolver.resolve(props.get("QueueName")) or f"{stack_name}-{logical}"
        url = sqs.create_queue(QueueName=name)["QueueUrl"] if create else sqs.get_queue_url(QueueName=name)["QueueUrl"]
        refs[logical] = url
        attributes[logical] = {
            "Arn": f"arn:aws:sqs:{region}:{LOCAL_ACCOUNT}:{name}",
            "QueueName": name,
            "QueueUrl": url,
        }
    for logical, resource in template.of_type(QUEUE).items() if create else ():
        sqs.set_queue_attributes(
            QueueUrl=refs[logical], Attributes=_queue_attributes(resolver.resolve(resource.get("Properties", {})))
        )

    ddb = session.client("dynamodb", region_name=region)
    for logical, resource in template.of_type(TABLE).items():
        props = resolver.resolve(resource["Properties"])
        name = props.get("TableName") or f"{stack_name}-{logical}"
        if create:
            created = ddb.create_table(**_table_arguments(name, props))["TableDescription"]
        else:
            created = ddb.describe_table(TableName=name)["Table"]
        ttl = props.get("TimeToLiveSpecification")
        if create and ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        refs[logical] = name
        attributes[logical] = {
            "Arn": f"arn:aws:dynamodb:{region}:{LOCAL_ACCOUNT}:table/{name}",
            "StreamArn": created.get("LatestStreamArn", ""),
        }

    secretsmanager = session.client("secretsmanager", region_name=region)
    for logical, resource in template.of_type(SECRETS_MANAGER_SECRET).items():
        props = resolver.resolve(resource.get("Properties", {}))
        name = props.get("Name") or f"{stack_name}-{logical}"
        if create:
            # As CloudFormation does for GenerateSecretString: a fresh random value per stack.
            length = int(props.get("GenerateSecretString", {}).get("PasswordLength", 32))
            arn = secretsmanager.create_secret(Name=name, SecretString=secrets.token_urlsafe(length)[:length])["ARN"]
        else:
            arn = secretsmanager.describe_secret(SecretId=name)["ARN"]
        refs[logical] = arn  # Ref of a secret is its ARN
        attributes[logical] = {"Id": arn}

    kms = session.client("kms", region_name=region)
    for logical in template.of_type(KMS_KEY):
        # A key has no name to find it by again: its description says which stack and resource.
        description = f"{stack_name} {logical}"
        if create:
            key_id = kms.create_key(Description=description)["KeyMetadata"]["KeyId"]
        else:
            key_id = next(
                k["KeyId"]
                for k in kms.list_keys()["Keys"]
                if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"].get("Description") == description
            )
        refs[logical] = key_id  # Ref of a key is its id
        attributes[logical] = {"Arn": f"arn:aws:kms:{region}:{LOCAL_ACCOUNT}:key/{key_id}", "KeyId": key_id}

    events = session.client("events", region_name=region)
    for logical, resource in template.of_type(EVENT_BUS).items():
        name = resolver.resolve(resource.get("Properties", {}).get("Name")) or f"{stack_name}-{logical}"
        arn = (
            events.create_event_bus(Name=name)["EventBusArn"] if create else events.describe_event_bus(Name=name)["Arn"]
        )
        refs[logical] = name  # Ref of an event bus is its name
        attributes[logical] = {"Arn": arn, "Name": name}
    for logical, resource in template.of_type(EVENT_RULE).items() if create else ():
        props = resolver.resolve(resource.get("Properties", {}))
        name = props.get("Name") or f"{stack_name}-{logical}"
        bus = props.get("EventBusName", "default")
        events.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=json.dumps(props["EventPattern"]),
            State=props.get("State", "ENABLED"),
        )
        targets = [{"Id": t["Id"], "Arn": t["Arn"]} for t in props.get("Targets", [])]
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)

    for logical in template.of_type(FUNCTION):
        name = f"{stack_name}-{logical}"
        refs[logical] = name
        attributes[logical] = {"Arn": f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT}:function:{name}"}

    s3 = session.client("s3", region_name=region)
    buckets = template.of_type(BUCKET)
    for logical, resource in buckets.items():
        name = resolver.resolve(resource.get("Properties", {}).get("BucketName")) or f"{stack_name}-{logical}".lower()
        refs[logical] = name
        attributes[logical] = {"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"}
    for logical, resource in buckets.items() if create else ():
        props = resolver.resolve(resource.get("Properties", {}))
        name = refs[logical]
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        if "NotificationConfiguration" in props:
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration=_notification(props["NotificationConfiguration"])
            )
    return stack


def _queue_attributes(props: dict[str, Any]) -> dict[str, str]:
    names = (
        "VisibilityTimeout",
        "MessageRetentionPeriod",
        "DelaySeconds",
        "ReceiveMessageWaitTimeSeconds",
        "MaximumMessageSize",
    )
    attributes = {name: str(props[name]) for name in names if name in props}
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    return attributes


def _table_arguments(name: str, props: dict[str, Any]) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if "ProvisionedThroughput" in props:
        arguments["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    if "StreamSpecification" in props:
        arguments["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    for index_kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if index_kind in props:
            arguments[index_kind] = props[index_kind]
    return arguments


def _notification(config: dict[str, Any]) -> dict[str, Any]:
    queues = []
    for entry in config.get("QueueConfigurations", []):
        item: dict[str, Any] = {"QueueArn": entry["Queue"], "Events": [entry["Event"]]}
        rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules")
        if rules:
            item["Filter"] = {"Key": {"FilterRules": rules}}
        queues.append(item)
    return {"QueueConfigurations": queues}


class _Lenient(dict):
    """Refs to resources that have no local twin (roles, the API) resolve to their logical id."""

    def __missing__(self, key: str) -> str:
        return key


class _LenientAttributes(dict):
    def __missing__(self, key: str) -> dict[str, str]:
        return _AttributeStub(key)


class _AttributeStub(dict):
    def __init__(self, logical: str) -> None:
        super().__init__()
        self.logical = logical

    def __missing__(self, attribute: str) -> str:
        return f"arn:aws:local:::{self.logical}/{attribute}"
