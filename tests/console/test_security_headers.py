"""Security headers on every response, framing only where configured, and /readyz details
only for local probes and operators (through HTTP)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient
from console_helpers import Login

from gateway.app import create_app
from gateway.config.settings import Settings
from tests.conftest import ADMIN_PASSWORD

PATHS = ("/", "/healthz", "/readyz", "/chat/static/widget.js", "/api/v1/openapi.json",
         "/api/v1/conversations/1", "/console/login", "/console", "/no/such/page")


async def test_every_response_carries_the_headers(client: TestClient) -> None:
    for path in PATHS:
        response = await client.get(path, allow_redirects=False)
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert "aiohttp" not in headers["Server"] and "Python" not in headers["Server"], path
        assert "Strict-Transport-Security" not in headers, path  # not behind HTTPS


async def test_the_chat_page_may_be_framed_by_the_configured_site_only(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings]) -> None:
    client = await aiohttp_client(create_app(make_settings(
        webchat={"frame_ancestors": ["https://www.velora.be"]},
        console={"secure_cookies": True, "admin": {"username": "admin",
                                                   "password": ADMIN_PASSWORD}})))
    page = await client.get("/")
    assert page.headers["Content-Security-Policy"] == \
        "frame-ancestors 'self' https://www.velora.be"
    assert "X-Frame-Options" not in page.headers
    for path in ("/console/login", "/healthz", "/chat/static/widget.js"):
        other = await client.get(path)
        assert other.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in other.headers["Content-Security-Policy"], path
    for path in PATHS:
        response = await client.get(path, allow_redirects=False)
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000", path


async def test_readyz_details_only_for_local_probes_and_operators(client: TestClient,
                                                                 login: Login) -> None:
    local = await (await client.get("/readyz")).json()
    assert local["checks"]["store"]["ok"] is True
    proxied = {"X-Forwarded-For": "203.0.113.9"}  # what a reverse proxy in front adds
    response = await client.get("/readyz", headers=proxied)
    assert response.status == 200
    assert await response.json() == {"status": "ready"}
    await login()
    operator = await (await client.get("/readyz", headers=proxied)).json()
    assert operator["checks"]["knowledge_base"]["ok"] is True
