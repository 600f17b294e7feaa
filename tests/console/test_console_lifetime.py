"""A console session ends `console.session_max_hours` after its login, however active the
operator is (the idle limit aside), on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from console_helpers import csrf_of
from test_console_idle import expiry

from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.models import utcnow

ADMIN = {"username": "admin", "password": "admin-password-1"}


async def _log_in(client: Any) -> None:
    form = await client.get("/console/login")
    response = await client.post("/console/login", allow_redirects=False, data={
        "csrf": csrf_of(await form.text()), **ADMIN})
    assert response.status == 303


async def test_activity_never_extends_a_session_past_its_absolute_lifetime(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str) -> None:
    client = await aiohttp_client(create_app(make_settings(
        database={"url": database_url},
        console={"admin": ADMIN, "session_idle_minutes": 120, "session_max_hours": 1})))
    logged_in = utcnow()
    await _log_in(client)
    for _ in range(3):  # the operator keeps clicking: the idle limit would give now + 2 h
        assert (await client.get("/console", allow_redirects=False)).status == 200
        ends = await expiry(client)
        assert ends <= logged_in + timedelta(hours=1, seconds=5)  # type: ignore[operator]


async def test_a_session_past_its_absolute_lifetime_is_logged_out(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings]) -> None:
    client = await aiohttp_client(create_app(make_settings(
        console={"admin": ADMIN, "session_idle_minutes": 120, "session_max_hours": 1e-5})))
    await _log_in(client)  # the session lives 36 ms
    await asyncio.sleep(0.1)
    response = await client.get("/console", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/console/login"
