"""The upload wall on the local stack: its S3 refuses presigned POSTs the way S3 does (signature,
expiry, size range, exact and prefix conditions, fields the policy does not name), with S3's own
error documents, so an upload test that passes here means the wall holds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
from botocore.config import Config
from reviewpulse.storage.inputs import InputFiles
from reviewpulse_tools.local.apigateway import INTEGRATION_TIMEOUT_SECONDS
from reviewpulse_tools.local.stack import STACK_NAME

ROOT = Path(__file__).resolve().parents[2]
BUCKET = f"{STACK_NAME}-data-123456789012-us-east-1"
CSV = b"id,review\nr1,Lovely\n"


def post(upload: dict, *, fields: dict | None = None, content: bytes = CSV) -> httpx.Response:
    return httpx.post(
        upload["url"],
        data=fields if fields is not None else upload["fields"],
        files={"file": ("reviews.csv", content)},
        timeout=INTEGRATION_TIMEOUT_SECONDS,
    )


def s3_error(response: httpx.Response) -> dict[str, str]:
    assert response.headers["content-type"].startswith("application/xml"), response.text
    return {child.tag: child.text or "" for child in ET.fromstring(response.content)}


def exists(aws, key: str) -> bool:
    return aws("s3").list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount", 0) > 0


@pytest.fixture(scope="module")
def store(aws):
    """The product's own presigned POST builder, on the local stack's S3 with its credentials."""
    return InputFiles(BUCKET, aws("s3"))


@pytest.fixture(scope="module")
def store_v4(local):
    import boto3

    s3 = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    ).client("s3", endpoint_url=local["aws_endpoint"], config=Config(signature_version="s3v4"))
    return InputFiles(BUCKET, s3)


def upload_of(store: InputFiles, key: str, *, max_bytes: int = 100, expires_in: int = 300) -> dict:
    url, fields, _ = store.presigned_upload(key, max_bytes=max_bytes, expires_in=expires_in, metadata={})
    return {"url": url, "fields": fields, "key": key}


def test_the_batch_post_cannot_be_aimed_at_another_tenants_upload_key(local, api, aws):
    # Given another tenant's batch, waiting for its upload, and our own batch's presigned POST
    other_key = subprocess.run(
        [sys.executable, "-m", "reviewpulse_cli", "keys", "create", "--tenant", "wall-other", "--local"],
        cwd=ROOT, env=local["env"], capture_output=True, text=True, timeout=120, check=True,
    ).stdout.strip()  # fmt: skip
    theirs = httpx.post(
        f"{local['api_url']}/v1/batches",
        json={"filename": "theirs.csv"},
        headers={"X-Api-Key": other_key},
        timeout=INTEGRATION_TIMEOUT_SECONDS,
    ).json()
    ours = api.post("/v1/batches", json={"filename": "ours.csv"}).json()["upload"]

    # When our POST's key field is changed to their upload key
    their_upload_key = theirs["upload"]["fields"]["key"]
    refused = post(ours, fields={**ours["fields"], "key": their_upload_key})

    # Then S3 refuses it by the policy's exact key condition, and nothing is stored under their key
    assert refused.status_code == 403
    error = s3_error(refused)
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "{ours["fields"]["key"]}"]'
    )
    assert not exists(aws, their_upload_key)
    their_task = httpx.get(
        f"{local['api_url']}/v1/tasks/{theirs['task']['task_id']}",
        headers={"X-Api-Key": other_key},
        timeout=INTEGRATION_TIMEOUT_SECONDS,
    ).json()
    assert their_task["status"] == "accepted"


def test_an_empty_file_is_entity_too_small(api, aws):
    upload = api.post("/v1/batches", json={"filename": "empty.csv"}).json()["upload"]
    refused = post(upload, content=b"")
    assert refused.status_code == 400
    error = s3_error(refused)
    assert (error["Code"], error["ProposedSize"], error["MinSizeAllowed"]) == ("EntityTooSmall", "0", "1")
    assert not exists(aws, upload["fields"]["key"])


@pytest.mark.parametrize("signing", ["sigv2", "sigv4"])
def test_one_byte_over_the_maximum_is_entity_too_large_and_the_maximum_itself_is_stored(store, store_v4, aws, signing):
    # Given the product's presigned POST for at most 100 bytes (signed either way boto3 signs)
    key = f"walltest/local/size-{signing}/reviews.csv"
    upload = upload_of(store if signing == "sigv2" else store_v4, key, max_bytes=100)

    # When 101 bytes are posted, then 100
    too_large = post(upload, content=b"x" * 101)
    assert not exists(aws, key)
    at_maximum = post(upload, content=b"y" * 100)

    # Then the first is refused with S3's EntityTooLarge and its sizes; the second is stored whole
    assert too_large.status_code == 400
    error = s3_error(too_large)
    assert (error["Code"], error["ProposedSize"], error["MaxSizeAllowed"]) == ("EntityTooLarge", "101", "100")
    assert at_maximum.status_code == 204
    assert aws("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"y" * 100


def test_an_expired_policy_is_refused(store, aws):
    upload = upload_of(store, "walltest/local/expired/reviews.csv", expires_in=-1)
    refused = post(upload)
    assert refused.status_code == 403
    assert s3_error(refused)["Message"] == "Invalid according to Policy: Policy expired."
    assert not exists(aws, upload["key"])


@pytest.mark.parametrize("signing", ["sigv2", "sigv4"])
def test_a_policy_edited_after_signing_fails_its_signature(store, store_v4, aws, signing):
    # Given a signed policy, rewritten to allow a gigabyte, its signature kept
    upload = upload_of(store if signing == "sigv2" else store_v4, f"walltest/local/forged-{signing}/r.csv")
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    policy["conditions"] = [
        ["content-length-range", 1, 2**30] if isinstance(c, list) and c[0] == "content-length-range" else c
        for c in policy["conditions"]
    ]
    forged = {**upload["fields"], "policy": base64.b64encode(json.dumps(policy).encode()).decode()}
    # When it is posted
    refused = post(upload, fields=forged, content=b"z" * 200)
    # Then S3's SignatureDoesNotMatch, and nothing stored
    assert refused.status_code == 403 and s3_error(refused)["Code"] == "SignatureDoesNotMatch"
    assert not exists(aws, upload["key"])


def test_the_apis_presigned_post_is_sigv4_and_the_local_s3_checks_it(api, aws):
    # Given a batch's presigned POST as the API gives it
    upload = api.post("/v1/batches", json={"filename": "v4.csv"}).json()["upload"]
    fields = upload["fields"]
    # Then it is signed with SigV4, not SigV2
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256" and "signature" not in fields
    # And the local S3 refuses it with one hex digit of its signature changed, storing nothing
    flipped = fields["x-amz-signature"][:-1] + ("0" if fields["x-amz-signature"][-1] != "0" else "1")
    refused = post(upload, fields={**fields, "x-amz-signature": flipped})
    assert refused.status_code == 403 and s3_error(refused)["Code"] == "SignatureDoesNotMatch"
    assert not exists(aws, fields["key"])
    # And stores it as signed
    assert post(upload).status_code in (200, 204)
    assert exists(aws, fields["key"])


def test_an_unknown_access_key_is_refused(store, aws):
    upload = upload_of(store, "walltest/local/stranger/r.csv")
    refused = post(upload, fields={**upload["fields"], "AWSAccessKeyId": "AKIASTRANGER"})
    assert refused.status_code == 403 and s3_error(refused)["Code"] == "InvalidAccessKeyId"
    assert not exists(aws, upload["key"])


def test_a_field_the_policy_does_not_name_is_refused(api, aws):
    upload = api.post("/v1/batches", json={"filename": "meta.csv"}).json()["upload"]
    refused = post(upload, fields={**upload["fields"], "x-amz-meta-tenant": "someone-else"})
    assert refused.status_code == 403
    assert s3_error(refused)["Message"] == "Invalid according to Policy: Extra input fields: x-amz-meta-tenant"
    assert not exists(aws, upload["fields"]["key"])


def test_starts_with_holds_the_key_to_its_prefix(local, aws):
    # Given a POST for any key under walltest/local/prefixed/, the file's name filling it in
    import boto3

    s3 = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    ).client("s3", endpoint_url=local["aws_endpoint"])
    presigned = s3.generate_presigned_post(
        BUCKET,
        "walltest/local/prefixed/${filename}",
        Conditions=[["starts-with", "$key", "walltest/local/prefixed/"], ["content-length-range", 1, 100]],
        ExpiresIn=300,
    )
    upload = {"url": presigned["url"], "fields": presigned["fields"]}
    # When one upload stays under the prefix and another names a key outside it
    inside = post(upload)
    outside = post(upload, fields={**upload["fields"], "key": "walltest/elsewhere/reviews.csv"})
    # Then the first is stored under its filled-in name; the second is refused by that condition
    assert inside.status_code == 204 and exists(aws, "walltest/local/prefixed/reviews.csv")
    assert outside.status_code == 403
    assert s3_error(outside)["Message"] == (
        'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "walltest/local/prefixed/"]'
    )
    assert not exists(aws, "walltest/elsewhere/reviews.csv")


def test_a_key_sent_after_the_file_is_ignored_as_s3_ignores_it(store, aws):
    # Given a valid POST, followed after its file by a second key field naming another place
    upload = upload_of(store, "walltest/local/ordered/reviews.csv")
    boundary = "wallboundary"
    parts = [(name, value.encode()) for name, value in upload["fields"].items()]
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
        for name, value in parts
    )
    body += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n\r\n'.encode()
    body += CSV + b"\r\n"
    body += f'--{boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nwalltest/other/x.csv\r\n'.encode()
    body += f"--{boundary}--\r\n".encode()
    # When it is posted
    answer = httpx.post(
        upload["url"],
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=INTEGRATION_TIMEOUT_SECONDS,
    )
    # Then the file is stored under the signed key only
    assert answer.status_code == 204
    assert aws("s3").get_object(Bucket=BUCKET, Key=upload["key"])["Body"].read() == CSV
    assert not exists(aws, "walltest/other/x.csv")


def _without(fields: dict, name: str) -> dict:
    return {k: v for k, v in fields.items() if k != name}


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("no key field", 400, "InvalidArgument"),
        ("no file", 400, "InvalidArgument"),
        ("no policy", 403, "AccessDenied"),
        ("no signature", 403, "AccessDenied"),
        ("policy not JSON, signed", 400, "InvalidPolicyDocument"),
        ("two key fields", 400, "InvalidArgument"),
        ("not multipart", 412, "PreconditionFailed"),
        ("multipart without a boundary", 400, "MalformedPOSTRequest"),
        ("multipart that never ends", 400, "MalformedPOSTRequest"),
    ],
)
def test_malformed_uploads_get_s3s_4xx_and_store_nothing(store, aws, case, status, code):
    # Given a valid presigned POST
    upload = upload_of(store, f"walltest/local/malformed-{case.replace(' ', '-')}/r.csv")
    fields, url = upload["fields"], upload["url"]
    send = {"timeout": INTEGRATION_TIMEOUT_SECONDS}
    # When it is sent broken in one way
    if case == "no key field":
        answer = httpx.post(url, data=_without(fields, "key"), files={"file": ("r.csv", CSV)}, **send)
    elif case == "no file":
        answer = httpx.post(url, data=fields, files={"other": ("r.csv", CSV)}, **send)
    elif case == "no policy":
        answer = httpx.post(url, data=_without(fields, "policy"), files={"file": ("r.csv", CSV)}, **send)
    elif case == "no signature":
        answer = httpx.post(url, data=_without(fields, "signature"), files={"file": ("r.csv", CSV)}, **send)
    elif case == "policy not JSON, signed":
        # (signed with the local secret, as a client holding it would: the signature is checked first)
        garbage = "bm90IGpzb24="  # base64 of "not json"
        signature = base64.b64encode(hmac.new(b"local", garbage.encode(), hashlib.sha1).digest()).decode()
        broken = {**fields, "policy": garbage, "signature": signature}
        answer = httpx.post(url, data=broken, files={"file": ("r.csv", CSV)}, **send)
    elif case == "two key fields":
        second_key = ("key", (None, "walltest/elsewhere/r.csv"))
        answer = httpx.post(url, data=fields, files=[second_key, ("file", ("r.csv", CSV))], **send)
    elif case == "not multipart":
        answer = httpx.post(url, data={**fields, "file": CSV.decode()}, **send)
    elif case == "multipart without a boundary":
        answer = httpx.post(url, content=b"key=x", headers={"Content-Type": "multipart/form-data"}, **send)
    else:
        body = b'--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nwalltest/x'
        answer = httpx.post(url, content=body, headers={"Content-Type": "multipart/form-data; boundary=b"}, **send)
    # Then S3's own error, never a 5xx, and nothing stored
    assert answer.status_code == status, answer.text
    assert s3_error(answer)["Code"] == code
    assert not exists(aws, upload["key"]) and not exists(aws, "walltest/elsewhere/r.csv")
