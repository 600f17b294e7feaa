"""Fixtures for the console tests: log in through the real form, hand a chat to people
through the REST API channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Handoff, Login, csrf_of

from gateway.access.auth import hash_password
from gateway.config.settings import Settings
from gateway.keys import STORE
from gateway.models import Operator


@pytest.fixture
def admin_password(settings: Settings) -> str:
    password = settings.console.admin.password
    assert password is not None
    return password.get_secret_value()


@pytest.fixture
def login(client: TestClient, admin_password: str) -> Login:
    """Log in through the form; return the session's CSRF token (from the landing page)."""

    async def log_in(username: str = "admin", password: str | None = None) -> str:
        client.session.cookie_jar.clear()  # as a fresh browser: switching operators works
        form = await client.get("/console/login")
        response = await client.post("/console/login", data={
            "csrf": csrf_of(await form.text()), "username": username,
            "password": admin_password if password is None else password,
        })
        assert response.status == 200, await response.text()
        assert response.url.path == "/console"
        return csrf_of(await response.text())

    return log_in


@pytest.fixture
def handoff(client: TestClient, api_headers: dict[str, str]) -> Handoff:
    """A customer asks the API channel for a human; returns the API's answer (ticket_id...)."""

    async def ask(text: str = "I want to talk to a human", customer_id: str = "c1",
                  name: str = "Ann", conversation_id: int | None = None,
                  language: str | None = None) -> dict[str, Any]:
        response = await client.post("/api/v1/messages", headers=api_headers, json={
            "customer": {"id": customer_id, "name": name}, "text": text,
            "conversation_id": conversation_id, "language": language,
        })
        assert response.status == 201, await response.text()
        body: dict[str, Any] = await response.json()
        assert body["ticket_id"] is not None, body
        return body

    return ask


@pytest.fixture
def sales_agent(client: TestClient) -> Callable[[], Awaitable[None]]:
    """Create `sam`, an agent of the sales queue only (hand-offs land in `general`)."""

    async def create() -> None:
        await client.app[STORE].create_operator(
            "sam", "Sam Sales", hash_password(AGENT_PASSWORD), role="agent", queues=["sales"])

    return create


@pytest.fixture
def make_operator(client: TestClient) -> Callable[..., Awaitable[Operator]]:
    """Create an operator (password `AGENT_PASSWORD`): `await make_operator("gina", "agent",
    ["general"])`."""

    async def create(username: str, role: str = "agent", queues: Sequence[str] = ("general",),
                     languages: Sequence[str] = ("en", "fr", "nl", "de")) -> Operator:
        return await client.app[STORE].create_operator(
            username, username.title(), hash_password(AGENT_PASSWORD), role=role,
            queues=list(queues), languages=list(languages))

    return create
