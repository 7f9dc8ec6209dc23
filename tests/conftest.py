"""Shared fixtures: AWS resources built from template.yaml under moto, the real handlers, and an
API Gateway that routes to them as the deployed API does."""

from __future__ import annotations

import functools
import json
import os
import threading

# Powertools reads these when reviewpulse.observability is first imported, which may happen while
# test modules are collected: set them before anything imports the domain package.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "reviewpulse")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ReviewPulse")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import moto.kms.models
import pytest
from moto import mock_aws
from reviewpulse_tools.local import aws_dispatch, sqs_depth
from reviewpulse_tools.local import dynamodb as local_dynamodb
from reviewpulse_tools.local.apigateway import ApiGateway
from reviewpulse_tools.local.lambda_ import FunctionRunner, LambdaContext
from reviewpulse_tools.local.provision import ProvisionedStack, provision
from reviewpulse_tools.local.sqs import QueuePoller
from reviewpulse_tools.local.streams import StreamPoller, streams_client
from reviewpulse_tools.local.template import load_template

# The local stack in its own process, one per session (per worker under xdist): registered here.
from tests.local_stack import api, aws, local  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"

# `make test` runs the suite on pytest-xdist workers (`-n auto --dist loadgroup`): tests that share
# an expensive fixture must run on one worker, or each worker would make its own. Each module is a
# group (its module-scoped fixtures made once); the modules that use the session's local stack are
# one group, and so are those that use the session's `sam build`.
SHARED_GROUPS = {"local": "local-stack", "sam_build_dir": "sam-build", "lambda_runtime_dir": "sam-build"}
# Groups handed out first (xdist runs with --no-loadscope-reorder, so in this order): the longest,
# so that none of them starts last and keeps one worker busy after the other has finished.
FIRST = (
    "local-stack",
    "tests/bench/test_quick_bench.py",
    "sam-build",
    "tests/local/test_restart.py",
    # Its large-sheet test alone took 185 s under load (2026-12-06), last of all when collected last.
    "tests/unit/test_xlsx.py",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Set on xdist's workers under --dist loadgroup (which collect the tests the controller hands out).
    if not getattr(config.option, "loadgroup", False):
        return
    group_of_module: dict[Path, str] = {}
    for item in items:
        shared = [SHARED_GROUPS[name] for name in item.fixturenames if name in SHARED_GROUPS]
        if shared:
            group_of_module[item.path] = shared[0]
        else:
            group_of_module.setdefault(item.path, item.path.relative_to(ROOT).as_posix())
    for item in items:
        item.add_marker(pytest.mark.xdist_group(group_of_module[item.path]))
    # A stable sort: the first groups in FIRST's order, every other test where it was.
    rank = {group: n for n, group in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(group_of_module[item.path], len(FIRST)))


# One botocore loader per data path for the whole test process. Every test makes new boto3 sessions
# (the `stack` fixture's, and reset_clients() for the code under test), and each new session's
# loader parsed botocore's JSON again: the endpoint and partition data and each service's model,
# about 0.2 CPU-s a test that provisions the stack (docs/tests.md, fourth pass). botocore's data
# files do not change during a run and nothing mutates what it loaded; sessions, clients,
# credentials and endpoints are still made afresh for every test.
botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)


@pytest.fixture(scope="session")
def translated_template():
    # Translating SAM costs about a second: do it once.
    return load_template()


# moto's KMS makes a 2,048-bit RSA private key for every key it creates, a symmetric one too (moto
# 5.2's Key.__init__), about 44 ms of CPU; every `stack` fixture creates the template's key. A
# symmetric key's private key is never used (it encrypts with its own 32-byte material; Sign and
# GetPublicKey are not for symmetric keys): so symmetric keys share one here. Asymmetric key specs
# still get their own.
_motos_private_key = moto.kms.models.generate_private_key
_one_rsa_key_for_symmetric_keys = functools.cache(lambda: _motos_private_key("SYMMETRIC_DEFAULT"))
moto.kms.models.generate_private_key = lambda key_spec: (
    _one_rsa_key_for_symmetric_keys() if key_spec == "SYMMETRIC_DEFAULT" else _motos_private_key(key_spec)
)


@pytest.fixture(autouse=True)
def moto_as_the_local_stack_runs_it() -> None:
    """The tests' in-process moto with the local stack's AWS process's patches: DynamoDB's item
    answers and stream reads written as JSON directly instead of moto's serializer walking every
    attribute (local/dynamodb.py: about a quarter of an in-process pipeline test's CPU), SQS
    counts without a clock read per message (local/sqs_depth.py), and each handler class's
    actions listed once (local/aws_dispatch.py). The answers are moto's own, held by their tests
    (tests/unit/test_local_*.py), which uninstall them to compare: so installed before every test
    (idempotent, a list's check when installed)."""
    local_dynamodb.install()
    sqs_depth.install()
    aws_dispatch.install()


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test can reach a real AWS account, and cached clients and settings start fresh."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    from reviewpulse.aws import reset_clients
    from reviewpulse.settings import get_settings

    reset_clients()
    get_settings.cache_clear()
    yield
    reset_clients()
    get_settings.cache_clear()


# DynamoDB applies each write to an item atomically; moto does not (an UpdateItem checks its
# condition, then computes and writes the new attributes with nothing held between). The local
# stack's AWS process serializes DynamoDB's requests (local/dynamodb_serial.py); the tests' in-process
# moto does the same here, for the tests that call it from several threads at once: two racing
# finalizers both passed the `status` condition on a loaded machine and both made the task ready.
_DYNAMODB_LOCK = threading.RLock()


def _one_at_a_time(call_action):
    def serialized(self):
        with _DYNAMODB_LOCK:
            return call_action(self)  # the answer is serialized inside it, while no write runs

    return serialized


@pytest.fixture
def stack(translated_template, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProvisionedStack]:
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        monkeypatch.setattr(handler, "call_action", _one_at_a_time(handler.call_action))
    with mock_aws():
        local = provision(boto3.Session(), template=translated_template)
        # Handlers read their configuration from the environment, as in Lambda.
        # Each function gets only the variables it reads; tests act for any of them.
        for function_id in local.template.of_type("AWS::Lambda::Function"):
            for name, value in local.function_environment(function_id).items():
                monkeypatch.setenv(name, value)
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ReviewPulse")
        yield local


@pytest.fixture
def runner(stack: ProvisionedStack) -> FunctionRunner:
    return FunctionRunner(stack)


@pytest.fixture
def gateway(runner: FunctionRunner) -> ApiGateway:
    # The template's compression, but no usage plan: tests send many requests at one instant, and
    # those about throttling build a plan of their own with a test clock.
    return ApiGateway(runner, throttle=None)


@pytest.fixture
def streams(runner: FunctionRunner) -> StreamPoller:
    return StreamPoller(runner, streams_client(boto3.session.Session()))


@pytest.fixture
def poller(runner: FunctionRunner, streams: StreamPoller) -> QueuePoller:
    # Draining the queues drains the tasks table's stream too: task events feed the webhook queue.
    return QueuePoller(runner, boto3.client("sqs"), also=[streams])


@pytest.fixture
def s3(stack: ProvisionedStack) -> Any:
    return boto3.client("s3")


@pytest.fixture
def bucket(stack: ProvisionedStack) -> str:
    return stack.ref("DataBucket")


def _create_key(stack: ProvisionedStack, tenant: str) -> str:
    from reviewpulse.tenants.keys import KeyRepository

    # The usage key stands in for the tenant's API Gateway key in the usage plan (ApiKeyRequired).
    key, _ = KeyRepository(stack.ref("KeysTable"), boto3.client("dynamodb")).create(tenant, f"usage-{tenant}")
    return key


@pytest.fixture
def api_key(stack: ProvisionedStack) -> str:
    return _create_key(stack, "acme")


@pytest.fixture
def other_api_key(stack: ProvisionedStack) -> str:
    return _create_key(stack, "globex")


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext(function_name="reviewpulse-test")


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


class Client:
    """A thin JSON client over the in-process API Gateway."""

    def __init__(self, gateway: ApiGateway, api_key: str | None) -> None:
        self.gateway = gateway
        self.api_key = api_key

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ):
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if self.api_key:
            all_headers["X-Api-Key"] = self.api_key
        payload = json.dumps(body) if body is not None and not isinstance(body, (str, bytes)) else body
        return self.gateway.request(method, path, headers=all_headers, query=query, body=payload)


@pytest.fixture
def client(gateway: ApiGateway, api_key: str) -> Client:
    return Client(gateway, api_key)


@pytest.fixture
def other_client(gateway: ApiGateway, other_api_key: str) -> Client:
    return Client(gateway, other_api_key)
