"""The local stack's AWS: moto servers in two processes of their own, DynamoDB's and the rest.

Every AWS call of every function and poller is answered by moto. In the stack's own process it
shared one interpreter lock with the gateway and the pollers (a load run could use one core at
most there, whatever the machine had: bench/load.py measured 25 ms of that process's CPU a
request, two thirds of it moto's), so it runs in a process of its own. And DynamoDB (with its
streams) runs in a second one:

- moto's DynamoDB answers one request at a time (dynamodb_serial.py: its item writes are not
  atomic). In one process with SQS, S3 and EventBridge, the request holding that lock competes
  for the interpreter lock with every other thread of the process: the queue pollers' long polls,
  the uploads, the events. Measured under a 300-user load (2026-12-06, docs/figures.md) a GetItem
  took 1.6 ms of moto's CPU and 230 ms of wall time, and every DynamoDB request waited its turn
  behind the ones stretched like it: the status polls' wait, and the analyzer's. In a process of
  its own the request inside the lock has that interpreter to itself, and DynamoDB's CPU and the
  other services' run on two cores.
- Nothing in moto ties DynamoDB to the other services the stack uses (S3 notifies SQS and
  EventBridge targets SQS inside the other process; the tasks table's stream is read by
  streams.py through the DynamoDB Streams API), so splitting it changes no answer.

The stack's processes and the functions reach each through AWS_ENDPOINT_URL_DYNAMODB and
AWS_ENDPOINT_URL_DYNAMODB_STREAMS beside AWS_ENDPOINT_URL (boto3 takes a service's own endpoint
over the general one): handler code has no local special case. A client that knows only the
general endpoint (the state file's `aws_endpoint`: the CLI, tests, a developer's `aws
--endpoint-url`) still reaches DynamoDB: that process forwards DynamoDB's requests to the other
(ForwardDynamoDB), at the cost of one more local HTTP hop for those callers only.
"""

from __future__ import annotations

import http.client
import logging
import multiprocessing
import signal
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from reviewpulse_cli.local_state import LOCAL_CREDENTIALS

from reviewpulse_tools.local.dynamodb_serial import TARGETS

START_SECONDS = 300
FORWARD_TIMEOUT_SECONDS = 120  # a forwarded DynamoDB request may wait its turn behind a burst
# Hop-by-hop headers (RFC 9110 7.6.1), which a forwarder does not pass on.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"})


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def dynamodb_environment(endpoint: str) -> dict[str, str]:
    """The variables that send boto3's DynamoDB and DynamoDB Streams clients to `endpoint`."""
    return {"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": endpoint}


class ForwardDynamoDB:
    """WSGI middleware: DynamoDB's and DynamoDB Streams' requests (told by X-Amz-Target) go to the
    DynamoDB process at `endpoint`, with their headers and body, and its answer comes back as it
    is; any other request goes to `app`."""

    def __init__(self, app: Callable[..., Iterable[bytes]], endpoint: str) -> None:
        self.app = app
        parts = urlsplit(endpoint)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith(TARGETS):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            name[5:].replace("_", "-").title(): value
            for name, value in environ.items()
            if name.startswith("HTTP_") and name[5:].replace("_", "-").lower() not in HOP_BY_HOP
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        path = environ.get("PATH_INFO") or "/"
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        connection = http.client.HTTPConnection(self.host, self.port, timeout=FORWARD_TIMEOUT_SECONDS)
        try:
            connection.request(environ["REQUEST_METHOD"], path, body=body, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
            passed = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
            start_response(f"{answer.status} {answer.reason}", passed)
        finally:
            connection.close()
        return [content]


class AwsServer:
    """moto's servers for the local stack: DynamoDB's process, and the process of every other
    service at `host:port` (which forwards DynamoDB's requests it gets). `environment()` gives
    the variables that send boto3's clients to each."""

    def __init__(self, host: str, port: int) -> None:
        # spawn, not fork: this process may run threads by now.
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[Any] = []
        self.dynamodb_endpoint = f"http://{host}:{free_port(host)}"
        try:
            self._dynamodb = self._start("aws-dynamodb", host, urlsplit(self.dynamodb_endpoint).port, None)
            self._main = self._start("aws", host, port, self.dynamodb_endpoint)
        except BaseException:
            self.stop()
            raise

    def _start(self, name: str, host: str, port: int | None, forward: str | None) -> Any:
        ready = self._context.Event()
        process = self._context.Process(target=_serve, args=(host, port, ready, forward), name=name, daemon=True)
        process.start()
        self._processes.append(process)
        deadline = time.monotonic() + START_SECONDS
        while not ready.wait(0.5):
            if not process.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"moto's server ({name}) did not start on {host}:{port}")
        return process

    def environment(self) -> dict[str, str]:
        """Beside AWS_ENDPOINT_URL (the general endpoint): DynamoDB's own."""
        return dynamodb_environment(self.dynamodb_endpoint)

    @property
    def pid(self) -> int | None:
        """The process answering every service but DynamoDB (and forwarding DynamoDB's requests)."""
        return self._main.pid

    @property
    def dynamodb_pid(self) -> int | None:
        return self._dynamodb.pid

    def stop(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)


def _serve(host: str, port: int, ready: Any, forward_dynamodb: str | None) -> None:
    """One AWS process: moto until the stack stops it (SIGTERM) or is gone. With
    `forward_dynamodb`, every service but DynamoDB (whose requests go to that endpoint); without,
    DynamoDB's process."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from reviewpulse_tools.local import aws_dispatch, dynamodb, sqs_depth
    from reviewpulse_tools.local.aws_census import Census
    from reviewpulse_tools.local.dynamodb_serial import OneDynamoDBRequestAtATime
    from reviewpulse_tools.local.lambda_environment import _die_with_parent
    from reviewpulse_tools.local.s3 import PostPolicyWall
    from reviewpulse_tools.local.s3_ranges import RangedReads

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the stack's to handle
    _die_with_parent()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    aws_dispatch.install()  # each host's service and each class's actions found once (aws_dispatch.py)
    moto = DomainDispatcherApplication(create_backend_app)
    if forward_dynamodb is None:
        dynamodb.install()  # item answers written as JSON directly (dynamodb.py: moto's serializer was most of this process's CPU)
        # DynamoDB's requests one at a time: moto's item writes are not atomic (dynamodb_serial.py).
        app: Any = Census(OneDynamoDBRequestAtATime(moto))  # each action's CPU and wall time (aws_census.py)
    else:
        sqs_depth.install()  # sends and receives no longer walk the queue's messages (sqs_depth.py)
        secrets = {LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"]: LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}
        # Forwarded requests are counted by DynamoDB's process only.
        app = ForwardDynamoDB(Census(RangedReads(PostPolicyWall(moto, secrets))), forward_dynamodb)
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    server.socket.listen(2048)  # as the gateway's (apigateway.serve): bursts of connections
    ready.set()
    server.serve_forever()


__all__ = ["AwsServer", "ForwardDynamoDB", "dynamodb_environment", "free_port"]
