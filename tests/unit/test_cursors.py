"""Signed pagination cursors: only a cursor this deployment issued, for this tenant and this
listing, opens; every other string or byte sequence is InvalidCursor and nothing else."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from hypothesis import example, given
from hypothesis import strategies as st
from moto import mock_aws
from reviewpulse.api.paging import read_results_page, results_listing
from reviewpulse.aws import add_api_call_listener, remove_api_call_listener
from reviewpulse.cursors import MAX_CURSOR_CHARS, CursorSigner
from reviewpulse.errors import InvalidCursor
from reviewpulse.results.model import ItemResult
from reviewpulse.settings import Settings
from reviewpulse.signing_key import SigningKeyNotConfigured, cursor_signing_key
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.model import Task, TaskStatus, TaskType

KEY = b"k" * 64
SIGNER = CursorSigner(lambda: KEY)
TENANT, LISTING = "acme", "results:" + "a" * 28

positions = st.one_of(
    st.integers(min_value=0, max_value=2**53),
    st.dictionaries(st.sampled_from(["tenant", "task_id", "created_key", "tenant_status"]), st.text(max_size=40)),
)
names = st.text(min_size=1, max_size=60)


def _token(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def _cursor(token: bytes) -> str:
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


@given(position=positions, tenant=names, listing=names)
def test_a_cursor_opens_for_the_tenant_and_listing_it_was_issued_for(position, tenant, listing):
    # Given a cursor issued for a tenant's listing
    cursor = SIGNER.issue(tenant=tenant, listing=listing, position=position)
    # Then it is URL-safe, fits the API's limit, and gives back exactly its position
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert SIGNER.open(cursor, tenant=tenant, listing=listing) == position


@given(position=positions, tenant=names, other=names, listing=names)
def test_a_cursor_replayed_by_another_tenant_is_refused(position, tenant, other, listing):
    cursor = SIGNER.issue(tenant=tenant, listing=listing, position=position)
    if other != tenant:
        with pytest.raises(InvalidCursor):
            SIGNER.open(cursor, tenant=other, listing=listing)


@given(position=positions, listing=names, other=names)
@example(position=10, listing="results:" + "a" * 28, other="results:" + "b" * 28)
@example(position=10, listing="tasks:status=*", other="tasks:status=ready")
def test_a_cursor_replayed_on_another_listing_is_refused(position, listing, other):
    cursor = SIGNER.issue(tenant=TENANT, listing=listing, position=position)
    if other != listing:
        with pytest.raises(InvalidCursor):
            SIGNER.open(cursor, tenant=TENANT, listing=other)


def test_tenant_and_listing_cannot_be_shifted_into_each_other():
    # Given a cursor for tenant "ab" on listing "c"
    cursor = SIGNER.issue(tenant="ab", listing="c", position=1)
    # Then it does not open for tenant "a" on listing "bc"
    with pytest.raises(InvalidCursor):
        SIGNER.open(cursor, tenant="a", listing="bc")


def test_a_cursor_of_another_deployment_is_refused():
    cursor = CursorSigner(lambda: b"another deployment's key").issue(tenant=TENANT, listing=LISTING, position=0)
    with pytest.raises(InvalidCursor):
        SIGNER.open(cursor, tenant=TENANT, listing=LISTING)


@given(position=positions, data=st.data())
def test_any_changed_byte_of_a_cursor_is_refused(position, data):
    # Given a valid cursor, and one byte of it changed
    token = bytearray(_token(SIGNER.issue(tenant=TENANT, listing=LISTING, position=position)))
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    token[index] ^= data.draw(st.integers(min_value=1, max_value=255))
    # Then it is refused
    with pytest.raises(InvalidCursor):
        SIGNER.open(_cursor(bytes(token)), tenant=TENANT, listing=LISTING)


@given(position=positions, cut=st.integers(min_value=1, max_value=80), extra=st.binary(min_size=1, max_size=20))
def test_a_truncated_or_extended_cursor_is_refused(position, cut, extra):
    token = _token(SIGNER.issue(tenant=TENANT, listing=LISTING, position=position))
    for changed in (token[: max(len(token) - cut, 0)], token + extra):
        with pytest.raises(InvalidCursor):
            SIGNER.open(_cursor(changed), tenant=TENANT, listing=LISTING)


@given(cursor=st.text(max_size=3 * MAX_CURSOR_CHARS))
@example(cursor="")
@example(cursor="%%%garbage")
@example(cursor="e30")
@example(cursor="eyJ0IjoiYWFhIiwibyI6LTF9")
@example(cursor="x" * 5000)
@example(cursor="AQ" + "A" * 50)
def test_arbitrary_text_is_refused_and_nothing_else_is_raised(cursor):
    with pytest.raises(InvalidCursor):
        SIGNER.open(cursor, tenant=TENANT, listing=LISTING)


@given(raw=st.binary(max_size=400))
def test_arbitrary_bytes_are_refused_and_nothing_else_is_raised(raw):
    # As base64url (the cursor's own alphabet), and as text made of those bytes
    for cursor in (_cursor(raw), raw.decode("latin-1"), raw.decode("utf-8", errors="surrogateescape")):
        with pytest.raises(InvalidCursor):
            SIGNER.open(cursor, tenant=TENANT, listing=LISTING)


def test_the_key_is_read_only_when_a_cursor_is_issued_or_opened():
    reads = []
    signer = CursorSigner(lambda: reads.append(1) or KEY)
    assert reads == []
    signer.open(signer.issue(tenant=TENANT, listing=LISTING, position=0), tenant=TENANT, listing=LISTING)
    assert len(reads) == 2


# --------------------------------------------------------------------------- the key


@pytest.fixture
def secrets_manager(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    parameters.clear_caches()
    with mock_aws():
        yield boto3.client("secretsmanager")


def test_the_key_comes_from_the_deployments_secret_once_per_max_age(secrets_manager):
    # Given the signing secret in Secrets Manager, and every AWS call recorded
    arn = secrets_manager.create_secret(Name="rp-cursor-signing", SecretString="s3cr3t")["ARN"]
    calls = []
    listener = lambda service, operation, params: calls.append((service, operation, params.get("SecretId")))  # noqa: E731
    add_api_call_listener(listener)
    try:
        # When the key is needed twice
        keys = [cursor_signing_key(Settings(cursor_signing_secret=arn)) for _ in range(2)]
    finally:
        remove_api_call_listener(listener)
    # Then it is the secret's value, fetched once through the domain's recorded client
    assert keys == [b"s3cr3t", b"s3cr3t"]
    assert calls == [("secretsmanager", "GetSecretValue", arn)]


def test_a_local_key_needs_no_secrets_manager(secrets_manager):
    assert cursor_signing_key(Settings(cursor_signing_key="local", cursor_signing_secret="missing")) == b"local"


def test_no_configured_key_is_a_deployment_error_not_a_cursor_error(secrets_manager):
    with pytest.raises(SigningKeyNotConfigured):
        cursor_signing_key(Settings())


# --------------------------------------------------------------------------- results pages


def _ready_task(results_key: str) -> Task:
    now = datetime.now(UTC)
    return Task(
        tenant=TENANT,
        task_id="a" * 28,
        type=TaskType.BATCH,
        status=TaskStatus.READY,
        created_at=now,
        updated_at=now,
        results_key=results_key,
    )


def test_a_signed_offset_anywhere_in_a_results_file_pages_or_is_refused(secrets_manager):
    # Given a results file whose lines hold multi-byte characters (accents, CJK, emoji)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="data")
    results = [
        ItemResult(row=n, id=identifier, label="positive", score=0.5, confidence=0.9, engine="lexicon")
        for n, identifier in enumerate(["café", "評価", "👍🏽 ok", "plain"], start=1)
    ]
    body = "".join(r.model_dump_json() + "\n" for r in results).encode()
    assert len(body) > len(body.decode())  # some characters take several bytes
    s3.put_object(Bucket="data", Key="results/acme/t/results.jsonl", Body=body)
    result_files = ResultFiles("data", s3)
    task = _ready_task("results/acme/t/results.jsonl")
    line_starts = {0} | {i + 1 for i, byte in enumerate(body) if byte == ord("\n")}
    # When a correctly signed cursor names each byte offset of the file, and a few past its end
    for offset in range(len(body) + 3):
        cursor = SIGNER.issue(tenant=TENANT, listing=results_listing(task.task_id), position=offset)
        if offset in line_starts:
            # Then an offset where a line starts gives the items from there on
            page = read_results_page(task, result_files, SIGNER, limit=10, cursor=cursor)
            assert page.items == results[sorted(line_starts).index(offset) :]
        else:
            # And any other offset (inside a line, inside a character, past the end) is refused
            with pytest.raises(InvalidCursor):
                read_results_page(task, result_files, SIGNER, limit=10, cursor=cursor)


def test_result_pages_follow_their_own_cursors_through_every_item(secrets_manager):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="data")
    results = [ItemResult(row=n, id=f"ü{n}", label="neutral", score=0.0, confidence=0.5) for n in range(1, 8)]
    s3.put_object(Bucket="data", Key="r.jsonl", Body="".join(r.model_dump_json() + "\n" for r in results).encode())
    task = _ready_task("r.jsonl")
    seen, cursor = [], None
    while True:
        page = read_results_page(task, ResultFiles("data", s3), SIGNER, limit=3, cursor=cursor)
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == results
