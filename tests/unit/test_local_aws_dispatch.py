"""The local stack's AWS process remembers which moto service a host is for and which actions a
handler class has (tools/reviewpulse_tools/local/aws_dispatch.py): the answers must be moto's own,
and asking again must not redo moto's work."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import backends
from moto.core import responses
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sqs.responses import SQSResponse
from reviewpulse_tools.local import aws_dispatch

HOSTS = [
    "dynamodb.us-east-1.amazonaws.com",
    "sqs.us-east-1.amazonaws.com",
    "s3.amazonaws.com",
    "reviewpulse-local-data-123456789012-us-east-1.s3.amazonaws.com",
    "events.us-east-1.amazonaws.com",
    "moto_api",
    "sqs",
    None,
]


@pytest.fixture
def installed() -> Iterator[None]:
    aws_dispatch.install()
    yield
    aws_dispatch.uninstall()


def test_backends_and_actions_are_motos_own_and_asked_of_moto_once(installed, monkeypatch):
    # Given moto's own answers (before the install) for the hosts and classes the stack meets
    aws_dispatch.uninstall()
    plain = DomainDispatcherApplication(create_backend_app)
    expected_backends = [plain.get_backend_for_host(host) for host in HOSTS]
    expected_actions = [responses.method_names_from_class(c) for c in (DynamoHandler, SQSResponse)]
    aws_dispatch.install()
    app = DomainDispatcherApplication(create_backend_app)
    listed = []
    real_list = backends.list_of_moto_modules
    monkeypatch.setattr(backends, "list_of_moto_modules", lambda: listed.append(1) or real_list())

    # When each host and class is asked about twice
    first = [app.get_backend_for_host(host) for host in HOSTS]
    asked_once = len(listed)
    second = [app.get_backend_for_host(host) for host in HOSTS]
    actions = [responses.method_names_from_class(c) for c in (DynamoHandler, SQSResponse)] * 2

    # Then every answer is moto's
    assert first == second == expected_backends
    assert actions == expected_actions * 2
    assert "query" in actions[0] and "receive_message" in actions[1]
    # and the second round did not list moto's services again
    assert asked_once > 0 and len(listed) == asked_once
