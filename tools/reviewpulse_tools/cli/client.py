"""A small client of the ReviewPulse HTTP API, for the CLI (and anyone scripting against it)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx


class ApiError(Exception):
    """Something the user can act on, in one line."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class ApiClient:
    endpoint: str
    api_key: str
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep  # waits between retries (tests pass a clock's)

    def __post_init__(self) -> None:
        self._http = httpx.Client(
            base_url=self.endpoint.rstrip("/"),
            headers={"X-Api-Key": self.api_key, "User-Agent": "reviewpulse-cli"},
            timeout=self.timeout,
        )

    def close(self) -> None:
        self._http.close()

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
            except (KeyError, ValueError):
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
        raise ApiError(f"{problem.get('detail') or problem.get('message') or response.reason_phrase} ({code})", code)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.ConnectError:
            raise ApiError(
                f"cannot reach {self.endpoint}: is the stack running? (`make dev` starts a local one)"
            ) from None
        except httpx.TimeoutException:
            raise ApiError(f"{self.endpoint} did not answer within {self.timeout:.0f} s") from None
        except httpx.HTTPError as exc:
            raise ApiError(f"talking to {self.endpoint} failed: {exc}") from None
