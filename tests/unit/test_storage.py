"""The data bucket: its key layout (pure) and the paging of result files (on moto's S3)."""

from __future__ import annotations

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws
from reviewpulse.storage.layout import (
    INCOMING,
    REFUSED_PREFIX,
    UPLOADS,
    UnsafeKey,
    conversations_key,
    delivered_keys,
    outgoing_keys,
    parse_source_key,
    part_key,
    receipt_keys,
    refused_receipt_key,
    results_keys,
    task_prefixes,
    upload_key,
)
from reviewpulse.storage.result_files import ResultFiles

# Names as the service makes them: tenants and task ids without "/", file names reduced to a safe
# base name, dropped files anywhere under their tenant's folder.
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=30)
filenames = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", min_size=1)
segments = st.text(alphabet=st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), min_size=1)
drop_paths = st.lists(segments, min_size=1, max_size=4).map("/".join)


def keys_of_task(tenant: str, task_id: str, filename: str) -> list[str]:
    return [
        upload_key(tenant, task_id, filename),
        part_key(tenant, task_id, 0, "a1"),
        part_key(tenant, task_id, 123_456, "b2"),
        *results_keys(tenant, task_id),
        conversations_key(tenant, task_id),
    ]


@given(tenant=names, task_id=names, filename=filenames)
def test_every_upload_key_parses_back_to_its_task(tenant, task_id, filename):
    # Given the key a presigned POST uploads to
    key = upload_key(tenant, task_id, filename)
    # When the splitter parses it
    source = parse_source_key(key)
    # Then it finds the same tenant, task and file
    assert (source.kind, source.tenant, source.task_id, source.filename, source.key) == (
        UPLOADS,
        tenant,
        task_id,
        filename,
        key,
    )


@given(tenant=names, path=drop_paths)
def test_every_dropped_key_parses_back_and_is_delivered_beside_its_path(tenant, path):
    # Given a file dropped anywhere under a tenant's incoming/ folder
    key = f"{INCOMING}/{tenant}/{path}"
    # When the splitter parses it
    source = parse_source_key(key)
    # Then it keeps the path, and the results go beside the same path under outgoing/
    assert (source.kind, source.tenant, source.task_id, source.relative_path) == (INCOMING, tenant, None, path)
    assert source.filename == path.rsplit("/", 1)[-1]
    for delivered in outgoing_keys(source):
        assert delivered.startswith(f"outgoing/{tenant}/{path}.")
        # And no delivered file is ever taken for a new input
        assert parse_source_key(delivered) is None


@given(tenant=names, task_id=names, filename=filenames)
def test_keys_the_service_writes_are_never_taken_for_inputs(tenant, task_id, filename):
    written = keys_of_task(tenant, task_id, filename)[1:]
    assert [parse_source_key(key) for key in written] == [None] * len(written)


@given(first=st.tuples(names, names), second=st.tuples(names, names), filename=filenames)
def test_the_prefixes_of_one_task_hold_its_keys_and_never_another_tasks(first, second, filename):
    # Given two different tasks (one id may be the start of the other's)
    if first == second:
        second = (second[0], second[1] + "x")
    # When a purge deletes everything under the first task's prefixes
    prefixes = task_prefixes(*first)
    # Then every key of the first task is under them, and no key of the second is
    assert all(key.startswith(prefixes) for key in keys_of_task(*first, filename))
    assert not any(key.startswith(prefixes) for key in keys_of_task(*second, filename))


def test_the_source_keys_are_parsed_per_prefix():
    upload = parse_source_key("uploads/acme/" + "a" * 28 + "/r.csv")
    assert (upload.kind, upload.tenant, upload.task_id, upload.filename) == ("uploads", "acme", "a" * 28, "r.csv")
    drop = parse_source_key("incoming/acme/eu/2026/may reviews.csv")
    assert (drop.kind, drop.tenant, drop.task_id, drop.relative_path) == (
        "incoming",
        "acme",
        None,
        "eu/2026/may reviews.csv",
    )
    assert outgoing_keys(drop) == (
        "outgoing/acme/eu/2026/may reviews.csv.results.jsonl",
        "outgoing/acme/eu/2026/may reviews.csv.results.csv",
        "outgoing/acme/eu/2026/may reviews.csv.conversations.jsonl",
    )
    for outside in (
        "results/acme/x/part.jsonl",
        "uploads/acme/r.csv",
        "incoming/acme/",
        "incoming/acme/eu/",
        "uploads/acme/id/",
    ):
        assert parse_source_key(outside) is None


def test_a_page_stops_at_its_byte_budget_and_the_next_page_goes_on_from_there(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="results-bucket")
        # Given ten results lines of 100 bytes each
        lines = [f'{{"row":{n},"pad":"{"x" * (82 - len(str(n)))}"}}\n' for n in range(1, 11)]
        assert {len(line) for line in lines} == {100}
        s3.put_object(Bucket="results-bucket", Key="r.jsonl", Body="".join(lines).encode())
        result_files = ResultFiles("results-bucket", s3)
        # When pages of up to 10 lines but 250 bytes are read until the end
        pages, offset = [], 0
        while offset is not None:
            page, offset = result_files.read_lines("r.jsonl", offset=offset, limit=10, max_bytes=250)
            pages.append(len(page))
        # Then each page stopped at the first line that reached the budget, and every line came once
        assert pages == [3, 3, 3, 1]
        # And a budget smaller than one line still gives one line a page
        assert result_files.read_lines("r.jsonl", offset=0, limit=10, max_bytes=1)[0] == [lines[0].encode()]


# Keys anyone may drop: any prefix, segments that are empty, "." or "..", or anything else.
hostile_segments = st.one_of(st.sampled_from(["", ".", "..", "incoming", "outgoing", "_refused"]), segments)
hostile_keys = st.lists(hostile_segments, min_size=1, max_size=6).map("/".join)
DOT_SEGMENTS = {"", ".", ".."}


def keys_written_for(source, *, tenant_is_valid: bool) -> list[str]:
    """Every outgoing/ key the service may write for a dropped object: its receipt when it is
    refused, else its delivered files and both receipts (the splitter makes a task only for a
    valid tenant's clean drop)."""
    refusal = refused_receipt_key(source, tenant_is_valid=tenant_is_valid)
    if not (tenant_is_valid and source.clean):
        return [refusal]
    return [refusal, *outgoing_keys(source), *receipt_keys(source), *delivered_keys(source, conversations=True)]


@given(key=st.one_of(hostile_keys, hostile_keys.map(lambda path: f"{INCOMING}/{path}")), tenant_is_valid=st.booleans())
def test_no_key_written_for_a_drop_holds_a_dot_or_empty_segment(key, tenant_is_valid):
    # Given any key an object can be dropped at (valid tenant or not, as the splitter decides)
    source = parse_source_key(key)
    if source is None:
        return  # not an upload or a drop: the splitter writes nothing for it
    # When the keys written for it are made
    written = keys_written_for(source, tenant_is_valid=tenant_is_valid)
    for out in written:
        # Then none holds an empty, "." or ".." segment
        assert not DOT_SEGMENTS & set(out.split("/")), (key, out)
        # And each lies in the drop's own tenant folder, or is the one fixed refused receipt
        assert out.startswith(f"outgoing/{source.tenant}/{source.relative_path}.") or (
            out.startswith(REFUSED_PREFIX) and out.count("/") == REFUSED_PREFIX.count("/")
        ), (key, out)
    # And a drop that is not clean can have no key built beside it
    if not source.clean:
        with pytest.raises(UnsafeKey):
            outgoing_keys(source)
        with pytest.raises(UnsafeKey):
            receipt_keys(source)


def test_a_drop_outside_a_valid_tenant_folder_gets_its_receipt_in_the_refused_folder():
    # Given drops that climb out of their folder, hide in "." or empty folders, or name no tenant
    for key in ("incoming/../other/y.csv", "incoming/acme/../other/y.csv", "incoming/acme/./y.csv", "incoming//y.csv"):
        source = parse_source_key(key)
        # When their refusal receipt's key is made (a tenant name that would be valid or not)
        for valid in (True, False):
            receipt = refused_receipt_key(source, tenant_is_valid=valid)
            # Then it is the fixed folder's, one per dropped key, with nothing of the key in it
            assert receipt.startswith(REFUSED_PREFIX) and receipt.endswith(".error.json")
            assert ".." not in receipt and "other" not in receipt
    keys = {
        refused_receipt_key(parse_source_key(k), tenant_is_valid=False) for k in ("incoming/../a/x", "incoming/../b/x")
    }
    assert len(keys) == 2
    # And a clean drop of an unknown but valid tenant name still gets its receipt beside it
    nobody = parse_source_key("incoming/nobody/a.csv")
    assert refused_receipt_key(nobody, tenant_is_valid=True) == "outgoing/nobody/a.csv.error.json"
