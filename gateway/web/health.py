"""Liveness and readiness: `/healthz` says the process answers, `/readyz` that it can work.

`/readyz` tells anyone its verdict (the status code and "ready" / "not ready"); the
details (error messages, counts, connector states) only to a probe on the machine itself
or to a logged-in operator: they help an attacker as much as an admin.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.access.auth import current_operator
from gateway.background import crashes
from gateway.channels import health_of
from gateway.errors import StoreError
from gateway.keys import CONNECTORS, KB, OUTBOX, RELAY, STORE

_LOOPBACK = frozenset({"127.0.0.1", "::1"})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """503 until the store answers and the KB has articles; details name what is wrong."""
    app = request.app
    checks: dict[str, Any] = {}
    ready = True
    try:
        await app[STORE].ping()
        checks["store"] = {"ok": True, "outbox_pending": await app[STORE].outbox_pending_count()}
    except (StoreError, KeyError) as exc:
        checks["store"] = {"ok": False, "error": str(exc)}
        ready = False
    kb = app.get(KB)
    if kb is not None and kb.ready:
        snapshot = kb.snapshot
        checks["knowledge_base"] = {"ok": True, "articles": len(snapshot.articles),
                                    "errors": list(snapshot.errors),
                                    # "update" until the full rebuild after an edit is in
                                    "build": snapshot.kind,
                                    "build_seconds": round(snapshot.seconds, 3)}
    else:
        checks["knowledge_base"] = {"ok": False, "error": "no articles loaded",
                                    "errors": list(kb.errors) if kb is not None else []}
        ready = False
    checks["outbox_worker"] = {"ok": OUTBOX in app}
    # Channel health is shown, not gated on: a mail server outage must not take the web chat
    # and console out of the load balancer.
    checks["connectors"] = {name: health_of(connector)
                            for name, connector in app[CONNECTORS].items()}
    if RELAY in app:  # shown, not gated on: without it replicas only lag, they still work
        checks["relay"] = app[RELAY].health()
    crashed = crashes()
    if crashed:  # shown, not gated on: each crashed loop is started again after a pause
        checks["background_crashes"] = crashed
    verdict: dict[str, Any] = {"status": "ready" if ready else "not ready"}
    if await _may_see_details(request):
        verdict["checks"] = checks
    return web.json_response(verdict, status=200 if ready else 503)


async def _may_see_details(request: web.Request) -> bool:
    """A local probe or an operator."""
    if is_local_probe(request):
        return True
    try:
        return await current_operator(request, extend=False) is not None
    except StoreError:
        return False


def is_local_probe(request: web.Request) -> bool:
    """From the machine itself, and not a request a local reverse proxy forwarded."""
    forwarded = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    return request.remote in _LOOPBACK and not forwarded


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
