"""A small client of the ReviewPulse HTTP API, for the CLI (and anyone scripting against it).

The API's JSON calls go through the standard library's http.client: a command such as `status`
answers in about the time of its request, where importing httpx alone took five times a bare
interpreter's start. httpx is loaded only for what it does better, the multipart upload and the
streamed download of result files, whose own time dwarfs its import. Answers are asked for
gzipped (the gateway compresses large pages) and inflated with zlib, which the interpreter has built in.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import random
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlencode, urlsplit

from reviewpulse_cli.errors import ApiError

__all__ = ["ApiClient", "ApiError", "Response"]


class Response:
    """The parts of an HTTP answer the client reads (named as httpx names them). Plain classes
    here, not dataclasses: importing dataclasses loads inspect and ast, a tenth of `status`."""

    def __init__(self, status_code: int, reason_phrase: str, headers: Any, content: bytes) -> None:
        self.status_code = status_code
        self.reason_phrase = reason_phrase
        self.headers = headers  # http.client's message: names are matched without regard to case
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class ApiClient:
    def __init__(
        self,
        endpoint: str,
        api_key: str,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,  # waits between retries (tests pass a clock's)
    ) -> None:
        self.endpoint = endpoint
        self.api_key = api_key
        self.timeout = timeout
        self.sleep = sleep
        self._connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # -- endpoints -----------------------------------------------------------------------------

    def create_text_task(
        self, text: str, client_id: str | None = None, options: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body = {"text": text, **({"id": client_id} if client_id else {}), **({"options": options} if options else {})}
        return self._call("POST", "/v1/tasks", json=body)

    def create_batch(
        self, filename: str, options: dict[str, Any] | None = None, **fields: str | None
    ) -> dict[str, Any]:
        body = {
            "filename": filename,
            **{k: v for k, v in fields.items() if v},
            **({"options": options} if options else {}),
        }
        return self._call("POST", "/v1/batches", json=body)

    def upload(self, upload: dict[str, Any], filename: str, content: BinaryIO) -> None:
        import httpx

        try:
            response = httpx.post(
                upload["url"],
                data=upload["fields"],
                files={"file": (filename, content)},
                timeout=max(self.timeout, 300),
            )
        except httpx.HTTPError as exc:
            raise ApiError(f"the upload to {upload['url']} failed: {exc}") from None
        if response.status_code >= 300:
            if "EntityTooLarge" in response.text:
                raise ApiError(
                    f"the file is larger than the {upload['max_bytes']:,} bytes a batch may have", "too-large"
                )
            raise ApiError(f"the upload was refused ({response.status_code})")

    def task(self, task_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/tasks/{task_id}")

    def insights(self, task_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/tasks/{task_id}/insights")

    def tasks(self, status: str | None = None, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
        params = {
            "limit": str(limit),
            **({"status": status} if status else {}),
            **({"cursor": cursor} if cursor else {}),
        }
        return self._call("GET", "/v1/tasks", params=params)

    def start(self, task_id: str) -> dict[str, Any]:
        """Run a quoted batch."""
        return self._call("POST", f"/v1/tasks/{task_id}/start")

    def resume(self, task_id: str, max_cost_usd: float | None = None) -> dict[str, Any]:
        """Continue a task its budget paused."""
        body = {"max_cost_usd": max_cost_usd} if max_cost_usd is not None else None
        return self._call("POST", f"/v1/tasks/{task_id}/resume", **({"json": body} if body else {}))

    def results(self, task_id: str, limit: int = 100, cursor: str | None = None) -> dict[str, Any]:
        params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        return self._call("GET", f"/v1/tasks/{task_id}/results", params=params)

    def download(self, url: str, target: Path) -> int:
        import httpx

        try:
            with httpx.stream("GET", url, timeout=max(self.timeout, 300)) as response:
                response.raise_for_status()
                written = 0
                with target.open("wb") as out:
                    for piece in response.iter_bytes():
                        written += out.write(piece)
        except httpx.HTTPError as exc:
            raise ApiError(f"downloading the results failed: {exc}") from None
        return written

    def create_webhook(self, url: str) -> dict[str, Any]:
        return self._call("POST", "/v1/webhooks", json={"url": url})

    def webhooks(self) -> dict[str, Any]:
        return self._call("GET", "/v1/webhooks")

    def delete_webhook(self, webhook_id: str) -> None:
        response = self._send("DELETE", f"/v1/webhooks/{webhook_id}")
        if response.status_code != 204:
            self._call("DELETE", f"/v1/webhooks/{webhook_id}")  # raises the problem as ApiError

    def rotate_webhook_secret(self, webhook_id: str, overlap_seconds: int | None = None) -> dict[str, Any]:
        body = {} if overlap_seconds is None else {"overlap_seconds": overlap_seconds}
        return self._call("POST", f"/v1/webhooks/{webhook_id}/rotate-secret", json=body)

    def create_model(self, task_id: str, label_field: str, name: str | None = None) -> dict[str, Any]:
        body = {"task_id": task_id, "label_field": label_field, **({"name": name} if name else {})}
        return self._call("POST", "/v1/models", json=body)

    def models(self) -> dict[str, Any]:
        return self._call("GET", "/v1/models")

    def model(self, model_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/models/{model_id}")

    def delete_model(self, model_id: str) -> None:
        response = self._send("DELETE", f"/v1/models/{model_id}")
        if response.status_code != 204:
            self._call("DELETE", f"/v1/models/{model_id}")  # raises the problem as ApiError

    def set_default_model(self, model_id: str | None) -> dict[str, Any]:
        return self._call("PUT", "/v1/models/default", json={"model_id": model_id})

    # -- plumbing ------------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        # A 429 comes from the usage plan before the request reaches the API, so any request is
        # retried through it; passing server errors only for reads (a write may have happened).
        # The wait is the answer's Retry-After, else exponential; capped, and jittered so that
        # clients throttled together do not come back together. A wait over the cap (a quota
        # that resets hours later) is not waited for: the user gets the answer's reason.
        max_wait, attempts = 20.0, 6
        for attempt in range(attempts):
            response = self._send(method, path, **kwargs)
            retryable = response.status_code == 429 or (
                method == "GET" and response.status_code in (500, 502, 503, 504)
            )
            if not retryable or attempt == attempts - 1:
                break
            try:
                wait = float(response.headers["Retry-After"])
            except (KeyError, TypeError, ValueError):
                wait = 0.5 * 2**attempt
            if wait > max_wait:
                break
            self.sleep(wait + random.uniform(0, min(1.0, wait / 4)))  # noqa: S311 (jitter, not secrecy)
        if response.status_code < 400:
            try:
                return response.json()
            except ValueError:
                raise ApiError(
                    f"{self.endpoint} answered {response.status_code} with something that is not JSON"
                ) from None
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        code = problem.get("code") or str(response.status_code)
        if response.status_code in (401, 403) and code in ("unauthorized", "forbidden", "403"):
            raise ApiError("the API key was refused: check --api-key or REVIEWPULSE_API_KEY", code)
        detail = problem.get("detail") or problem.get("message") or response.reason_phrase
        raise ApiError(f"{detail}{_fields_at_fault(problem)} ({code})", code)

    def _send(self, method: str, path: str, *, params: dict[str, str] | None = None, json: Any = None) -> Response:
        base = urlsplit(self.endpoint.rstrip("/"))
        target = base.path + path + (f"?{urlencode(params)}" if params else "")
        headers = {
            "X-Api-Key": self.api_key,
            "User-Agent": "reviewpulse-cli",
            "Accept": "application/json",
            "Accept-Encoding": "gzip",
        }
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            headers["Content-Type"] = "application/json"
        # One kept-alive connection per client (a wait polls many times); a dropped one is opened
        # again once, as any HTTP client does for a request that never reached the server.
        for attempt in range(2):
            try:
                connection = self._open(base)
                connection.request(method, target, body=body, headers=headers)
                answer = connection.getresponse()
                content = answer.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 1:
                    raise ApiError(f"{self.endpoint} closed the connection without an answer") from None
                continue
            except ConnectionRefusedError:
                self.close()
                raise ApiError(
                    f"cannot reach {self.endpoint}: is the stack running? (`make dev` starts a local one)"
                ) from None
            except TimeoutError:
                self.close()
                raise ApiError(f"{self.endpoint} did not answer within {self.timeout:.0f} s") from None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise ApiError(f"talking to {self.endpoint} failed: {exc}") from None
            if answer.getheader("Connection", "").lower() == "close":
                self.close()
            if answer.getheader("Content-Encoding", "").lower() == "gzip":
                content = zlib.decompress(content, 16 + zlib.MAX_WBITS)
            return Response(answer.status, answer.reason, answer.headers, content)
        raise AssertionError("unreachable")

    def _open(self, base: Any) -> http.client.HTTPConnection:
        if self._connection is None:
            if base.scheme not in ("http", "https") or not base.hostname:
                raise ApiError(f"{self.endpoint} is not an http(s) URL")
            kind = http.client.HTTPSConnection if base.scheme == "https" else http.client.HTTPConnection
            self._connection = kind(base.hostname, base.port, timeout=self.timeout)
        return self._connection


def _fields_at_fault(problem: dict[str, Any]) -> str:
    """`: text: String should have at least 1 character` for each error a problem lists (422)."""
    errors = problem.get("errors")
    if not isinstance(errors, list) or not errors:
        return ""
    parts = []
    for error in errors:
        if isinstance(error, dict):
            place = ".".join(str(p) for p in error.get("loc", []) if p not in ("body", "query"))
            parts.append(f"{place or 'request'}: {error.get('msg', 'invalid')}")
    return (": " + "; ".join(parts)) if parts else ""
