"""An unattended console tab times out: live refreshes are not the operator's activity."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from aiohttp.test_utils import TestClient
from console_helpers import Login

from gateway.access.auth import COOKIE
from gateway.keys import STORE


async def expiry(client: TestClient) -> object:
    found = await client.app[STORE].session(_token_hash(client))
    assert found is not None
    return found[2]


def _token_hash(client: TestClient) -> str:
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE].value
    return hashlib.sha256(token.encode()).hexdigest()


async def test_live_refresh_does_not_extend_the_session_but_a_click_does(
        client: TestClient, login: Login) -> None:
    await login()
    # Five minutes of the idle time have passed (the expiry is written at most once a
    # minute, so a click right after logging in changes nothing).
    fresh = await expiry(client)
    await client.app[STORE].extend_session(_token_hash(client),
                                           fresh - timedelta(minutes=5))  # type: ignore[operator]
    before = await expiry(client)
    refreshed = await client.get("/console", headers={"X-Live-Refresh": "1"})
    assert refreshed.status == 200
    assert await expiry(client) == before
    await client.get("/console")
    assert await expiry(client) > before  # type: ignore[operator]


async def test_clicks_within_a_minute_write_the_expiry_once(
        client: TestClient, login: Login) -> None:
    await login()
    before = await expiry(client)
    for _ in range(3):
        assert (await client.get("/console")).status == 200
    assert await expiry(client) == before
