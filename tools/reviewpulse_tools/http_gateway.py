"""API Gateway on localhost: HTTP requests become REST proxy events for the template's routes.

A WSGI app in front of lambda_runtime.ApiGateway, served by werkzeug (which comes with
moto[server]). It adds nothing of its own: routing, the authorizer and the functions are the
ones AWS would run.
"""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from reviewpulse_tools.lambda_runtime import ApiGateway

# API Gateway's own payload limit for REST APIs.
MAX_BODY_BYTES = 10 * 1024 * 1024
# API Gateway's integration timeout for REST APIs: the longest a client waits for an answer.
INTEGRATION_TIMEOUT_SECONDS = 29


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
        response = Response(answer.body, status=answer.status)
        for name, value in answer.headers.items():
            response.headers[name] = value
        return response(environ, start_response)


def serve(gateway: ApiGateway, host: str, port: int) -> tuple[BaseWSGIServer, threading.Thread]:
    server = make_server(host, port, GatewayApp(gateway), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="api-gateway", daemon=True)
    thread.start()
    return server, thread
