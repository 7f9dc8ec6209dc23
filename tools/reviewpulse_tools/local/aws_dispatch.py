"""Two per-request costs of moto's server, remembered in the local stack's AWS process.

A profile of that process under load (py-spy, `make soak` at 400 users: docs/figures.md) showed
two things done again for every request whose answer cannot change while the process runs:

- Which service a request is for: DomainDispatcherApplication.get_backend_for_host lists moto's
  package folder (a listdir and an isdir per service, ~150) and then tries every service's URL
  patterns in turn, under one lock that every request thread takes. The answer depends on the
  host name alone, and a stack asks for a handful (dynamodb, sqs, s3, ...): it is kept per host.
- Which actions a service's handler class has: BaseResponse.call_action runs
  inspect.getmembers over the class for every request. Classes do not grow methods at run time:
  the names are kept per class.

Together they were about a sixth of the process's samples. Installed by the AWS process
(aws_process._serve) and, for the tests' in-process moto, by tests/conftest.py;
tests/unit/test_local_aws_dispatch.py holds the answers to moto's own.
"""

from __future__ import annotations

from typing import Any

_installed: list[Any] = []


def install() -> None:
    """Remember backends per host and action names per class (idempotent)."""
    from moto.core import responses
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if _installed:
        return
    backend_for_host = DomainDispatcherApplication.get_backend_for_host
    method_names = responses.method_names_from_class
    hosts: dict[tuple[int, str | None], Any] = {}
    classes: dict[type, list[str]] = {}

    def remembered_backend(self: Any, host: str | None) -> Any:
        key = (id(self), host)
        if key not in hosts:
            # Bounded by the host names the stack's clients use; an unknown one (no backend)
            # is remembered too, as moto would answer it the same way again.
            hosts[key] = backend_for_host(self, host)
        return hosts[key]

    def remembered_names(clazz: Any) -> list[str]:
        if clazz not in classes:
            classes[clazz] = method_names(clazz)
        return classes[clazz]

    DomainDispatcherApplication.get_backend_for_host = remembered_backend  # type: ignore[method-assign]
    responses.method_names_from_class = remembered_names
    _installed.append((backend_for_host, method_names))


def uninstall() -> None:
    from moto.core import responses
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if _installed:
        backend_for_host, method_names = _installed.pop()
        DomainDispatcherApplication.get_backend_for_host = backend_for_host  # type: ignore[method-assign]
        responses.method_names_from_class = method_names


__all__ = ["install", "uninstall"]
