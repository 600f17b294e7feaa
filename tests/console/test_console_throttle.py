"""Login throttling through the console's login form: exponential delays, then a lockout,
per account and per source address, logged as security events without the password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
import structlog
from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, csrf_of

from gateway.config.settings import Settings

WRONG = "not-the-password-at-all"


async def _attempt(client: TestClient, username: str, password: str) -> aiohttp.ClientResponse:
    client.session.cookie_jar.clear()
    form = await client.get("/console/login")
    return await client.post("/console/login", allow_redirects=False, data={
        "csrf": csrf_of(await form.text()), "username": username, "password": password})


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    # No waiting between attempts, so the lockout is reached at once (delays: see below).
    return make_settings(console={"admin": {"username": "admin", "password": "admin-password-1"},
                                  "login": {"delay_seconds": 0, "max_failures_per_address": 15}})


async def test_ten_failures_lock_the_account_even_for_the_right_password(
        client: TestClient, make_operator: Callable[..., Any]) -> None:
    await make_operator("gina")
    with structlog.testing.capture_logs() as events:
        for _ in range(10):
            assert (await _attempt(client, "admin", WRONG)).status == 401
        locked = await _attempt(client, "admin", "admin-password-1")
        html = await locked.text()
        assert locked.status == 429
        assert "Too many failed logins: try again in 15 minutes." in html
        assert int(locked.headers["Retry-After"]) > 0
        # another account from the same address still logs in
        assert (await _attempt(client, "gina", AGENT_PASSWORD)).status == 303
    failed = [e for e in events if e["event"] == "security.login_failed"]
    assert len(failed) == 10 and failed[0]["account"] == "admin" and failed[0]["address"]
    assert [e["event"] for e in events].count("security.login_locked") == 1
    assert WRONG not in repr(events) and "admin-password-1" not in repr(events)


async def test_an_unknown_username_is_locked_the_same_and_never_logged(
        client: TestClient) -> None:
    typed = "my-password-in-the-username-field"
    with structlog.testing.capture_logs() as events:
        for _ in range(10):
            assert (await _attempt(client, typed, WRONG)).status == 401
        assert (await _attempt(client, typed, WRONG)).status == 429
    assert typed not in repr(events)
    assert all(e.get("account") is None for e in events if e["event"].startswith("security."))


async def test_one_address_trying_many_accounts_is_locked_out(client: TestClient) -> None:
    for number in range(15):
        assert (await _attempt(client, f"user{number}", WRONG)).status == 401
    refused = await _attempt(client, "admin", "admin-password-1")
    assert refused.status == 429 and "Too many failed logins" in await refused.text()


async def test_after_three_failures_the_next_attempt_must_wait(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings]) -> None:
    from gateway.app import create_app

    client = await aiohttp_client(create_app(make_settings(
        console={"admin": {"username": "admin", "password": "admin-password-1"},
                 "login": {"delay_seconds": 600, "max_delay_seconds": 3600}})))
    for _ in range(3):
        assert (await _attempt(client, "admin", WRONG)).status == 401
    waiting = await _attempt(client, "admin", "admin-password-1")
    assert waiting.status == 429
    assert "wait" in await waiting.text() and 590 <= int(waiting.headers["Retry-After"]) <= 600
