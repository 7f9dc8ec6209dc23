"""API Gateway on localhost (REST API, proxy integration): the template's routes, its REQUEST
authorizer run first, the usage plan's per-key throttle and quota (usage_plan.py), response compression above the
API's MinimumCompressionSize, and an HTTP server turning requests into proxy events. The server is a WSGI app on werkzeug (which comes with moto[server]); it adds nothing
of its own: routing, the authorizer and the functions are the ones AWS would run.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from reviewpulse_cli.local_state import LOCAL_ACCOUNT
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from reviewpulse_tools.local.lambda_ import FunctionError, FunctionRunner, WaitedTooLong
from reviewpulse_tools.local.template import TEMPLATE_PATH, read_sam_template
from reviewpulse_tools.local.usage_plan import Quota, Refusal, UsagePlanThrottle

LOCAL_API_ID = "localapi"
_log = logging.getLogger("reviewpulse.local")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {parameters}
    function: str
    authorized: bool
    api_key_required: bool = False  # the usage plan must know the authorizer's usageIdentifierKey

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path) + "$")


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: str  # the text, as a client that decodes Content-Encoding (httpx, browsers) reads it
    encoded: bytes | None = None  # the bytes on the wire, when the gateway compressed the body

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def wire(self) -> bytes:
        return self.encoded if self.encoded is not None else self.body.encode()

    def as_proxy_result(self) -> dict[str, Any]:
        """As a Lambda proxy integration's result (what `invoke` prints)."""
        return {"statusCode": self.status, "headers": self.headers, "body": self.body}


def api_routes(template_path=TEMPLATE_PATH) -> list[Route]:
    """The routes the template deploys, with whether the default authorizer guards them."""
    sam = read_sam_template(template_path)
    default_authorizer, default_key_required = None, False
    for resource in sam["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Api":
            auth = resource["Properties"].get("Auth", {})
            default_authorizer = auth.get("DefaultAuthorizer")
            default_key_required = bool(auth.get("ApiKeyRequired", False))
    routes = []
    for name, resource in sam["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] != "Api":
                continue
            props = event["Properties"]
            auth = props.get("Auth", {})
            authorizer = auth.get("Authorizer", default_authorizer)
            key_required = bool(auth.get("ApiKeyRequired", default_key_required))
            routes.append(
                Route(props["Method"].upper(), props["Path"], name, authorizer not in (None, "NONE"), key_required)
            )
    return routes


def api_settings(template_path=TEMPLATE_PATH, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the template configures on the REST API beyond its routes: MinimumCompressionSize and
    the usage plan's Throttle and Quota, with parameters resolved (their defaults, then
    `parameters`, as `--parameter-overrides` gives them)."""
    sam = read_sam_template(template_path)
    values = {name: spec.get("Default") for name, spec in sam.get("Parameters", {}).items()}
    values.update(parameters or {})

    def resolve(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"Ref"}:
            return values[value["Ref"]]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    found: dict[str, Any] = {"minimum_compression_size": None, "throttle": None, "quota": None}
    for resource in sam["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Api" and props.get("MinimumCompressionSize") is not None:
            found["minimum_compression_size"] = int(resolve(props["MinimumCompressionSize"]))
        if resource["Type"] == "AWS::ApiGateway::UsagePlan":
            found["throttle"] = resolve(props.get("Throttle"))
            found["quota"] = resolve(props.get("Quota"))
    return found


_CODINGS = ("gzip", "deflate")


def chosen_coding(accept_encoding: str | None) -> str | None:
    """The coding API Gateway would answer in: the client's highest-priority coding if it is gzip
    or deflate (`*` counts as gzip), else none. Ties keep the client's order."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_encoding or "").split(",")):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, position, name)
    if best is None:
        return None
    name = "gzip" if best[2] == "*" else best[2]
    return name if name in _CODINGS else None


def compress(body: bytes, coding: str) -> bytes:
    # deflate in HTTP is the zlib format (RFC 9110, 8.4.1.2); mtime 0 keeps gzip output stable.
    return gzip.compress(body, mtime=0) if coding == "gzip" else zlib.compress(body)


class ApiGateway:
    """Routes a request to its function as API Gateway does, running the authorizer first (and,
    given a `throttle`, the usage plan's per-key throttle after it)."""

    def __init__(
        self,
        runner: FunctionRunner,
        *,
        stage: str = "dev",
        authorizer_function: str = "AuthorizerFunction",
        throttle: UsagePlanThrottle | None | Literal["template"] = "template",
        minimum_compression_size: int | None | Literal["template"] = "template",
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """`throttle` and `minimum_compression_size` are the template's (with `parameters` over
        its parameter defaults) unless given; None turns either off."""
        self.runner = runner
        self.stage = stage
        self.authorizer_function = authorizer_function
        settings = api_settings(parameters=parameters)
        self.throttle = UsagePlanThrottle.of_template(settings) if throttle == "template" else throttle
        self.minimum_compression_size = (
            settings["minimum_compression_size"] if minimum_compression_size == "template" else minimum_compression_size
        )
        self.routes = api_routes()
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body: str | bytes | None = None,
        source_ip: str = "127.0.0.1",
    ) -> ApiResponse:
        headers = dict(headers or {})
        response = self._route(method, path, headers, query, body, source_ip)
        accept = next((v for k, v in headers.items() if k.lower() == "accept-encoding"), None)
        return self._compressed(response, accept)

    def _compressed(self, response: ApiResponse, accept_encoding: str | None) -> ApiResponse:
        """As API Gateway does with MinimumCompressionSize set: a body of at least that many bytes
        is compressed in the client's preferred coding, if gzip or deflate. A 304 has no body and
        a body the function already encoded is left alone."""
        coding = chosen_coding(accept_encoding)
        raw = response.body.encode()
        if (
            self.minimum_compression_size is None
            or coding is None
            or not raw
            or len(raw) < self.minimum_compression_size
            or "content-encoding" in response.headers
        ):
            return response
        encoded = compress(raw, coding)
        headers = {**response.headers, "content-encoding": coding, "content-length": str(len(encoded))}
        return ApiResponse(response.status, headers, response.body, encoded)

    def _route(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        query: dict[str, str] | None,
        body: str | bytes | None,
        source_ip: str,
    ) -> ApiResponse:
        method = method.upper()
        deadline = time.monotonic() + INTEGRATION_TIMEOUT_SECONDS
        matched = [(route, route.pattern.match(path)) for route in self.routes]
        candidates = [(route, m) for route, m in matched if m]
        allowed = [(route, m) for route, m in candidates if route.method == method]
        if not allowed:
            # REST APIs answer an unknown route or method as MISSING_AUTHENTICATION_TOKEN, which the
            # template's gateway responses turn into 404 not-found.
            return _problem(404, "not-found", "no such route")
        route, match = allowed[0]
        request_id = str(uuid.uuid4())
        event = self._proxy_event(route, method, path, match.groupdict(), headers, query, body, request_id, source_ip)
        if route.authorized:
            admitted = self._admit(route, event)
            if isinstance(admitted, ApiResponse):
                return admitted
            context, usage_key = admitted
            refusal = self.throttle.check(usage_key) if self.throttle is not None and usage_key else None
            if refusal is not None:
                # THROTTLED or QUOTA_EXCEEDED, as the template's gateway responses word them.
                answer = _problem(429, "throttled", refusal.detail)
                answer.headers["retry-after"] = str(refusal.retry_after)
                return answer
            event["requestContext"]["authorizer"] = context
        try:
            result = self.runner.invoke(route.function, event, wait_until=deadline)
        except WaitedTooLong:
            # No environment came free within the integration timeout: API Gateway's 504.
            _log.warning("%s: no execution environment free within %d s", route.function, INTEGRATION_TIMEOUT_SECONDS)
            return _problem(504, "internal-error", "Endpoint request timed out")
        except FunctionError as exc:
            if exc.error_type == "TooManyRequestsException":
                # Lambda throttled the function (its reserved concurrency): API Gateway answers 500.
                _log.warning("%s throttled", route.function)
                return _problem(500, "internal-error", "the function is throttled")
            # A function error or timeout: API Gateway answers 502, through DEFAULT_5XX.
            _log.warning("%s failed: %s", route.function, exc.error_type)
            return _problem(502, "internal-error", "the function failed")
        except Exception as exc:
            _log.warning("%s failed: %s", route.function, type(exc).__name__)
            return _problem(502, "internal-error", "the function failed")
        if time.monotonic() > deadline:
            # The function answered, but after API Gateway had given up on it.
            _log.warning("%s answered after %d s", route.function, INTEGRATION_TIMEOUT_SECONDS)
            return _problem(504, "internal-error", "Endpoint request timed out")
        response_headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response_headers[name.lower()] = ", ".join(values)
        # Without binaryMediaTypes a REST API passes a base64 body on as the text it is.
        return ApiResponse(int(result["statusCode"]), response_headers, result.get("body") or "")

    def authorize_event(self, function: str, event: dict[str, Any]) -> dict[str, Any] | ApiResponse:
        """A REST proxy event for `function` as the gateway would hand it on: for a route behind
        the authorizer, the authorizer is run on the event's X-Api-Key first and its context put
        in `requestContext.authorizer`; or the gateway's own answer (401, 403) when it refuses."""
        route = next((r for r in self.routes if r.function == function), None)
        if route is None or not route.authorized:
            return event
        admitted = self._admit(route, event)
        if isinstance(admitted, ApiResponse):
            return admitted
        context, _ = admitted
        return {**event, "requestContext": {**event.get("requestContext", {}), "authorizer": context}}

    def _admit(self, route: Route, event: dict[str, Any]) -> tuple[dict[str, Any], str | None] | ApiResponse:
        """The authorizer's context and the key's usage-plan key, or the gateway's refusal."""
        decision = self._authorize(event)
        if decision in ("unauthorized", "denied", "failed"):
            status, code = {
                "unauthorized": (401, "unauthorized"),
                "denied": (403, "forbidden"),
                "failed": (500, "internal-error"),
            }[decision]
            return _problem(status, code, "missing or invalid API key" if status == 401 else decision)
        context, usage_key = decision
        if route.api_key_required and not usage_key:
            return _problem(403, "forbidden", "the key is not in a usage plan (INVALID_API_KEY)")
        return context, usage_key

    def _authorize(self, event: dict[str, Any]) -> tuple[dict[str, Any], str | None] | str:
        """The context and usageIdentifierKey, or why not: unauthorized, denied or failed."""
        key = {k.lower(): v for k, v in event["headers"].items()}.get("x-api-key")
        if not key:
            return "unauthorized"  # no identity source: API Gateway answers 401 without calling it
        cached = self._cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        auth_event = {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:{self.runner.stack.region}:{LOCAL_ACCOUNT}:{LOCAL_API_ID}/{self.stage}/{event['httpMethod']}{event['path']}",
            **{
                k: event.get(k)
                for k in (
                    "resource",
                    "path",
                    "httpMethod",
                    "headers",
                    "multiValueHeaders",
                    "queryStringParameters",
                    "multiValueQueryStringParameters",
                    "pathParameters",
                    "stageVariables",
                    "requestContext",
                )
            },
        }
        try:
            response = self.runner.invoke(self.authorizer_function, auth_event)
        except Exception as exc:
            # API Gateway answers 401 when the authorizer fails with "Unauthorized", 500 otherwise.
            return "unauthorized" if str(exc).endswith("Unauthorized") else "failed"
        statements = response.get("policyDocument", {}).get("Statement", [])
        if not any(s.get("Effect") == "Allow" for s in statements):
            return "denied"
        # API Gateway hands the context on with every value as a string.
        context = {k: str(v) for k, v in (response.get("context") or {}).items()}
        context["principalId"] = response.get("principalId")
        decision = (context, response.get("usageIdentifierKey"))
        self._cache[key] = (time.monotonic() + 300, decision)
        return decision

    def _proxy_event(
        self, route, method, path, path_parameters, headers, query, body, request_id, source_ip
    ) -> dict[str, Any]:
        if isinstance(body, bytes):
            # Without binaryMediaTypes API Gateway passes the body as text.
            body = body.decode("utf-8", errors="replace")
        now = datetime.now(UTC)
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": headers or None,
            "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
            "queryStringParameters": dict(query) if query else None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "local",
                "resourcePath": route.path,
                "httpMethod": method,
                "extendedRequestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": f"/{self.stage}{path}",
                "accountId": LOCAL_ACCOUNT,
                "protocol": "HTTP/1.1",
                "stage": self.stage,
                "domainPrefix": LOCAL_API_ID,
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "requestId": request_id,
                "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
                "domainName": "localhost",
                "apiId": LOCAL_API_ID,
            },
            "body": body,
            "isBase64Encoded": False,
        }


def _problem(status: int, code: str, detail: str) -> ApiResponse:
    body = {
        "type": f"https://reviewpulse.dev/problems/{code}",
        "title": code.replace("-", " ").capitalize(),
        "status": status,
        "code": code,
        "detail": detail,
    }
    return ApiResponse(status, {"content-type": "application/problem+json"}, json.dumps(body))


# -- HTTP on localhost -----------------------------------------------------------------------------

# API Gateway's own payload limit for REST APIs.
MAX_BODY_BYTES = 10 * 1024 * 1024
# API Gateway's integration timeout for REST APIs: the longest a client waits for an answer.
INTEGRATION_TIMEOUT_SECONDS = 29
LISTEN_BACKLOG = 2048  # connections waiting to be accepted (see serve)


class GatewayApp:
    def __init__(self, gateway: ApiGateway) -> None:
        self.gateway = gateway

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        # Counted on the bytes read, so a chunked body without Content-Length is held to it too.
        request.max_content_length = MAX_BODY_BYTES
        try:
            body = request.get_data(as_text=False)
        except RequestEntityTooLarge:
            response = Response(
                '{"type":"about:blank","title":"Content too large","status":413,"code":"too-large",'
                '"detail":"API Gateway takes 10 MB at most; upload files with a batch instead"}',
                status=413,
                content_type="application/problem+json",
            )
            return response(environ, start_response)
        answer = self.gateway.request(
            request.method,
            request.path,
            headers=dict(request.headers.items()),
            query=dict(request.args.items()) or None,
            body=body or None,
            source_ip=request.remote_addr or "127.0.0.1",
        )
        response = Response(answer.wire, status=answer.status)
        for name, value in answer.headers.items():
            response.headers[name] = value
        if answer.status == 304:
            # No body, and none of the entity headers werkzeug adds to one.
            response.headers.pop("Content-Type", None)
            response.headers.pop("Content-Length", None)
        return response(environ, start_response)


def serve(gateway: ApiGateway, host: str, port: int) -> tuple[BaseWSGIServer, threading.Thread]:
    server = make_server(host, port, GatewayApp(gateway), threaded=True)
    # werkzeug listens with a backlog of 128: a thousand clients connecting at once overflowed it
    # and got no answer at all. listen() again on the bound socket raises it (the kernel caps it
    # at net.core.somaxconn).
    server.socket.listen(LISTEN_BACKLOG)
    thread = threading.Thread(target=server.serve_forever, name="api-gateway", daemon=True)
    thread.start()
    return server, thread


__all__ = [
    "INTEGRATION_TIMEOUT_SECONDS",
    "ApiGateway",
    "ApiResponse",
    "GatewayApp",
    "Quota",
    "Refusal",
    "Route",
    "UsagePlanThrottle",
    "api_routes",
    "api_settings",
    "chosen_coding",
    "serve",
]
