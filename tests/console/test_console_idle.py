"""An unattended console tab times out: live refreshes are not the operator's activity."""

from __future__ import annotations

import hashlib

from aiohttp.test_utils import TestClient
from console_helpers import Login

from gateway.access.auth import COOKIE
from gateway.keys import STORE


async def expiry(client: TestClient) -> object:
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE].value
    found = await client.app[STORE].session(hashlib.sha256(token.encode()).hexdigest())
    assert found is not None
    return found[2]


async def test_live_refresh_does_not_extend_the_session_but_a_click_does(
        client: TestClient, login: Login) -> None:
    await login()
    before = await expiry(client)
    refreshed = await client.get("/console", headers={"X-Live-Refresh": "1"})
    assert refreshed.status == 200
    assert await expiry(client) == before
    await client.get("/console")
    assert await expiry(client) > before  # type: ignore[operator]
