"""What the functions may say about a failure: its type and place, which fields failed and how,
never the input (pydantic's and FastAPI's renderings carry it) or an exception's message."""

from __future__ import annotations

import io
import logging

import pytest
from pydantic import BaseModel, ValidationError
from reviewpulse.observability import ExceptionTextFilter, describe_failure, safe_validation_errors

CANARY = "Qzv7Canary"


class Message(BaseModel):
    tenant: str
    chunk: int


def validation_error() -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        Message.model_validate({"tenant": [CANARY], "chunk": CANARY})
    return raised.value


def test_a_validation_error_is_described_by_fields_and_rules_without_its_input():
    # Given a validation error whose input holds the canary (its own text quotes it)
    error = validation_error()
    assert CANARY in str(error)
    # When it is described
    described = describe_failure(error)
    # Then the description names the type, the failing fields and rules, not the input
    assert CANARY not in described
    assert "ValidationError" in described
    assert "tenant: string_type" in described and "chunk: int_parsing" in described


def test_safe_validation_errors_keep_where_and_what_only():
    errors = safe_validation_errors(validation_error().errors())
    assert [e["loc"] for e in errors] == [["tenant"], ["chunk"]]
    assert all(set(e) == {"loc", "msg", "type"} and CANARY not in str(e) for e in errors)


def test_any_exception_is_described_by_type_and_place_only():
    try:
        raise KeyError(f"{CANARY} not found")
    except KeyError as exc:
        described = describe_failure(exc)
    assert CANARY not in described
    assert described.startswith("builtins.KeyError at test_observability.py:")


def test_a_library_logging_an_exception_logs_its_type_and_place_only():
    # Given a library logger (as Mangum's) with the filter, logging an exception with its traceback
    stream = io.StringIO()
    library = logging.getLogger("tests.a-library")
    handler = logging.StreamHandler(stream)
    library.addHandler(handler)
    library.addFilter(ExceptionTextFilter())
    library.propagate = False
    try:
        try:
            raise ValueError(f"cannot parse {CANARY}")
        except ValueError:
            # When it logs the exception
            library.exception("An error occurred running the %s.", "application")
    finally:
        library.removeHandler(handler)
    # Then its line keeps the message and the exception's type and place, not its text
    logged = stream.getvalue()
    assert CANARY not in logged
    assert "An error occurred running the application. (builtins.ValueError at test_observability.py:" in logged
