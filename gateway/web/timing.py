"""HTTP request latency per route, for /metrics (`helpdesk_http_request_seconds`).

The route label is the matched resource's canonical path (`/api/v1/conversations/{id}`),
never the raw URL, and a request no route matches is `unmatched`: a scanner trying
thousands of paths adds one series, not thousands. Methods outside the usual few are
`OTHER` for the same reason. WebSocket upgrades are left out: their handler runs for as
long as the socket is open, which is not a latency.
"""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler

from gateway.keys import TELEMETRY

UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_of(request: web.Request) -> str:
    """The route template the request matched, or `UNMATCHED` (404, 405)."""
    info = request.match_info
    resource = info.route.resource
    if resource is None or getattr(info, "http_exception", None) is not None:
        return UNMATCHED
    return resource.canonical


@web.middleware
async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    socket = False
    try:
        response = await handler(request)
        socket = isinstance(response, web.WebSocketResponse)
        return response
    finally:
        if not socket:
            method = request.method if request.method in _METHODS else "OTHER"
            request.app[TELEMETRY].http.labels(route_of(request), method).observe(
                time.perf_counter() - started)


def setup(app: web.Application) -> None:
    app.middlewares.insert(0, timed)  # first: the others' time (auth, guard) counts too
