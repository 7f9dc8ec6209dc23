"""S3's POST policy check, in front of the local stack's moto server.

moto stores a browser-based POST upload (PostObject) without looking at its policy: any size, any
key, an expired or forged signature. Real S3 refuses those, and the upload wall (each tenant
uploads only to its own task's key, up to the configured size) rests on S3 doing so. This WSGI
layer does what S3 does before moto sees the request:

- the signature: SigV4 (`x-amz-signature`, hex HMAC-SHA256 over the base64 policy with the key
  derived from the secret, the credential's date and region, `s3`) or SigV2 (`signature`, base64
  HMAC-SHA1), with the secrets of the local stack's credentials;
- the policy document: base64 JSON with an `expiration` still in the future;
- every condition, in the policy's order: exact match (`{"field": value}`, `["eq", "$field",
  value]`), `["starts-with", "$field", prefix]`, `["content-length-range", min, max]` on the file's
  size, `bucket` against the request's bucket, `key` after `${filename}` is filled in;
- every form field must be named by a condition (except `policy`, the signature fields, `file`
  and `x-ignore-*`); fields after `file` are ignored, as S3 ignores them.

Refusals are S3's own error documents and statuses. Hand-written because no maintained library
verifies POST policies on the server side (botocore only signs them). Developer-only: never shipped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.datastructures import Headers
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, File, MultipartDecoder, NeedData
from werkzeug.sansio.multipart import Field as FormField
from werkzeug.wrappers import Request, Response

# Fields that carry the policy and its signature, not the upload: no condition names them.
_SIGNATURE_FIELDS = {"policy", "x-amz-signature", "signature", "awsaccesskeyid", "file"}


class PolicyRefused(Exception):
    """S3's answer to a POST it refuses: status, error code, message and the code's own fields."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def response(self) -> Response:
        extra = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in self.details.items())
        request_id = uuid.uuid4().hex[:16].upper()
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>{extra}"
            f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
        )
        return Response(body, status=self.status, content_type="application/xml")


def _policy_failed(message: str) -> PolicyRefused:
    return PolicyRefused(403, "AccessDenied", f"Invalid according to Policy: {message}")


@dataclass
class PostForm:
    """A POST upload's form as S3 reads it: the fields before the file, then the file."""

    fields: dict[str, str] = field(default_factory=dict)  # lower-cased name → value
    names: dict[str, str] = field(default_factory=dict)  # lower-cased name → name as sent
    file: bytes | None = None
    filename: str = ""
    file_content_type: str | None = None


def parse_form(body: bytes, content_type: str) -> PostForm:
    _, options = parse_options_header(content_type)
    boundary = options.get("boundary", "").encode()
    if not boundary:
        raise PolicyRefused(
            400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data."
        )
    decoder = MultipartDecoder(boundary)
    decoder.receive_data(body)
    decoder.receive_data(None)
    form = PostForm()
    part: FormField | File | None = None
    data = bytearray()
    try:
        while True:
            event = decoder.next_event()
            if isinstance(event, (Epilogue, NeedData)):
                break
            if isinstance(event, (FormField, File)):
                part, data = event, bytearray()
            elif isinstance(event, Data) and part is not None:
                data += event.data
                if event.more_data:
                    continue
                name = part.name.lower()
                if name == "file":
                    form.file = bytes(data)
                    form.filename = part.filename if isinstance(part, File) else ""
                    form.file_content_type = part.headers.get("Content-Type")
                    break  # S3 ignores every field after the file
                if name in form.fields:
                    # A second value could make moto and this check read different ones.
                    raise PolicyRefused(400, "InvalidArgument", f"POST requires exactly one value for {part.name}.")
                form.fields[name] = data.decode("utf-8", errors="replace")
                form.names[name] = part.name
                part = None
    except ValueError:
        raise PolicyRefused(
            400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data."
        ) from None
    return form


class PostPolicyCheck:
    """Verifies one POST upload against its policy, as S3 does; raises PolicyRefused."""

    def __init__(self, secrets: dict[str, str], now: datetime | None = None) -> None:
        self.secrets = secrets  # access key id → secret access key
        self.now = now

    def verify(self, bucket: str, form: PostForm) -> str:
        """The object key the upload may be stored under."""
        fields = form.fields
        if "key" not in fields:
            raise PolicyRefused(
                400,
                "InvalidArgument",
                "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
                ArgumentName="key",
                ArgumentValue="",
            )
        if form.file is None:
            raise PolicyRefused(
                400,
                "InvalidArgument",
                "POST requires exactly one file upload per request.",
                ArgumentName="file",
                ArgumentValue="0",
            )
        if "policy" not in fields:
            # An anonymous POST: only a public-write bucket takes it, and ours is private.
            raise PolicyRefused(403, "AccessDenied", "Access Denied")
        self._verify_signature(fields)
        policy = self._decode(fields["policy"])
        key = fields["key"].replace("${filename}", os.path.basename(form.filename))
        values = {**fields, "key": key, "bucket": bucket}
        named = self._check_conditions(policy["conditions"], values, len(form.file))
        extra = [
            form.names[name]
            for name in fields
            if name not in named and name not in _SIGNATURE_FIELDS and not name.startswith("x-ignore-")
        ]
        if extra:
            raise _policy_failed(f"Extra input fields: {', '.join(extra)}")
        return key

    def _verify_signature(self, fields: dict[str, str]) -> None:
        policy = fields["policy"].encode()
        if "x-amz-signature" in fields:
            credential = fields.get("x-amz-credential", "").split("/")
            if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256" or len(credential) != 5:
                raise PolicyRefused(
                    400, "InvalidArgument", "POST form fields x-amz-algorithm and x-amz-credential are malformed."
                )
            access_key, date, region, service, _ = credential
            secret = self._secret(access_key)
            signing_key = ("AWS4" + secret).encode()
            for part in (date, region, service, "aws4_request"):
                signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
            expected = hmac.new(signing_key, policy, hashlib.sha256).hexdigest()
            given = fields["x-amz-signature"]
        elif "signature" in fields:
            secret = self._secret(fields.get("awsaccesskeyid", ""))
            expected = base64.b64encode(hmac.new(secret.encode(), policy, hashlib.sha1).digest()).decode()
            given = fields["signature"]
        else:
            raise PolicyRefused(403, "AccessDenied", "Access Denied")
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise PolicyRefused(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
            )

    def _secret(self, access_key: str) -> str:
        if access_key not in self.secrets:
            raise PolicyRefused(
                403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
            )
        return self.secrets[access_key]

    def _decode(self, encoded: str) -> dict[str, Any]:
        try:
            policy = json.loads(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            raise PolicyRefused(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
        if not isinstance(policy, dict) or "expiration" not in policy:
            raise PolicyRefused(400, "InvalidPolicyDocument", "Invalid Policy: Policy missing expiration.")
        if not isinstance(policy.get("conditions"), list):
            raise PolicyRefused(400, "InvalidPolicyDocument", "Invalid Policy: Policy missing conditions.")
        try:
            expiration = datetime.fromisoformat(str(policy["expiration"]))
            if expiration.tzinfo is None:
                raise ValueError("no time zone")
        except ValueError:
            raise PolicyRefused(
                400, "InvalidPolicyDocument", f"Invalid Policy: Invalid 'expiration' value: '{policy['expiration']}'"
            ) from None
        if expiration <= (self.now or datetime.now(UTC)):
            raise _policy_failed("Policy expired.")
        return policy

    def _check_conditions(self, conditions: list[Any], values: dict[str, str], size: int) -> set[str]:
        """The fields the conditions name, once every condition holds."""
        named: set[str] = set()
        for condition in conditions:
            if isinstance(condition, dict) and len(condition) == 1:
                name, expected = next(iter(condition.items()))
                condition = ["eq", f"${name}", expected]
            failed = _policy_failed(f"Policy Condition failed: {json.dumps(condition)}")
            if not isinstance(condition, list) or len(condition) != 3:
                raise failed
            operator, subject, operand = condition
            if operator == "content-length-range":
                low, high = subject, operand
                if not all(isinstance(n, int) and not isinstance(n, bool) for n in (low, high)):
                    raise failed
                if size > high:
                    raise PolicyRefused(
                        400,
                        "EntityTooLarge",
                        "Your proposed upload exceeds the maximum allowed size",
                        ProposedSize=size,
                        MaxSizeAllowed=high,
                    )
                if size < low:
                    raise PolicyRefused(
                        400,
                        "EntityTooSmall",
                        "Your proposed upload is smaller than the minimum allowed size",
                        ProposedSize=size,
                        MinSizeAllowed=low,
                    )
                continue
            if not (isinstance(subject, str) and subject.startswith("$") and isinstance(operand, str)):
                raise failed
            name = subject[1:].lower()
            value = values.get(name, "")  # a field the form lacks holds the empty string
            if operator == "eq":
                holds = value == operand
            elif operator == "starts-with":
                holds = value.startswith(operand)
            else:
                raise failed
            if not holds:
                raise failed
            named.add(name)
        return named


class PostPolicyWall:
    """WSGI middleware: POST uploads (multipart/form-data) pass to `app` only when S3 would take
    them, rebuilt from the fields S3 reads (so moto stores exactly what was checked)."""

    def __init__(self, app: Any, secrets: dict[str, str]) -> None:
        self.app = app
        self.check = PostPolicyCheck(secrets)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        content_type = environ.get("CONTENT_TYPE", "")
        if environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        if not content_type.lower().startswith("multipart/form-data"):
            if _is_unsigned_bucket_post(environ):
                # moto would store a urlencoded form's `key` and `file` without any policy.
                refused = PolicyRefused(
                    412,
                    "PreconditionFailed",
                    "At least one of the pre-conditions you specified did not hold",
                    Condition="Bucket POST must be of the enclosure-type multipart/form-data",
                )
                return refused.response()(environ, start_response)
            return self.app(environ, start_response)
        request = Request(environ)
        body = request.get_data(cache=False, parse_form_data=False)
        try:
            form = parse_form(body, content_type)
            key = self.check.verify(_bucket_of(environ), form)
        except PolicyRefused as refused:
            return refused.response()(environ, start_response)
        boundary = uuid.uuid4().hex
        rebuilt = _encode_form(boundary, {form.names[n]: v for n, v in form.fields.items()}, form, key)
        environ["wsgi.input"] = BytesIO(rebuilt)
        environ["CONTENT_LENGTH"] = str(len(rebuilt))
        environ["CONTENT_TYPE"] = f"multipart/form-data; boundary={boundary}"
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        return self.app(environ, start_response)


def _is_unsigned_bucket_post(environ: dict[str, Any]) -> bool:
    """A POST to a bucket (`/bucket`, no sub-resource) with no request signature: S3's POST
    Object, which only a form upload may be. Signed API calls (SQS, DeleteObjects, …) never are."""
    segments = [s for s in environ.get("PATH_INFO", "").split("/") if s]
    return (
        len(segments) == 1
        and segments[0] != "moto-api"
        and not environ.get("QUERY_STRING")
        and "HTTP_AUTHORIZATION" not in environ
    )


def _bucket_of(environ: dict[str, Any]) -> str:
    """Path-style (`/bucket`) or virtual-hosted (`bucket.s3.…` / `bucket.localhost`) addressing."""
    segments = [s for s in environ.get("PATH_INFO", "").split("/") if s]
    if segments:
        return segments[0]
    host = environ.get("HTTP_HOST", "").split(":")[0]
    for suffix in (".s3.", ".localhost"):
        if suffix in host:
            return host.split(suffix)[0]
    return ""


def _quote(name: str) -> str:
    # As browsers write form-data names (the HTML standard): no quote or line break survives raw.
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _encode_form(boundary: str, fields: dict[str, str], form: PostForm, key: str) -> bytes:
    parts = []
    for name, value in fields.items():
        # The key S3 stores: `${filename}` already filled in, so moto cannot fill it differently.
        value = key if name.lower() == "key" else value
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    headers = Headers()
    if form.file_content_type:
        headers["Content-Type"] = form.file_content_type
    file_header = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{_quote(form.filename or "file")}"\r\n'
    )
    file_header += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    parts.append(file_header.encode() + b"\r\n" + (form.file or b"") + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode()
