"""Shared fixtures: real stores (SQLite file and a fresh PostgreSQL database), settings over
the demo knowledge base, and the gateway application served by pytest-aiohttp.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.config.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEMO_KB = ROOT / "config" / "kb"
DEMO_TEMPLATES = ROOT / "config" / "templates"
PG_ADMIN_DSN = os.environ.get("HELPDESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
API_KEY = "test-api-key"
#: `[calendar]` open around the clock: what the bot says does not depend on when tests run.
ALWAYS_OPEN: dict[str, Any] = {day: ["00:00-24:00"] for day in (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")} | {
    "public_holidays": ""}
ADMIN_PASSWORD = "admin-password-1"


@pytest.fixture(autouse=True)
def _all_languages_detected() -> Iterator[None]:
    """An app configures the language detector for its `[languages]` (process-wide): the
    next test starts from the four languages again."""
    yield
    from knowledge_base import language

    language.configure(("en", "fr", "nl", "de"))


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A brand-new PostgreSQL database for one test, dropped afterwards."""
    name = f"hgw_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each test using it runs twice: on SQLite and on PostgreSQL (the store contract)."""
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'helpdesk.db'}"
    else:
        name = f"hgw_test_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        yield f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings like the demo's, on a temporary SQLite file unless told otherwise."""

    def make(**overrides: Any) -> Settings:
        data: dict[str, Any] = {
            "database": {"url": f"sqlite:{tmp_path / 'helpdesk.db'}"},
            "company": {"name": "Velora", "email": "support@velora.be", "phone": "+32 9 123 45 67"},
            "knowledge_base": {"path": str(DEMO_KB), "reload_interval": 0.2},
            "templates": {"path": str(DEMO_TEMPLATES)},
            "api": {"integrations": {"test": {"key": API_KEY, "link_by_email": True}}},
            "console": {"admin": {"username": "admin", "password": ADMIN_PASSWORD}},
            "outbox": {"poll_interval": 0.05, "backoff": 0.05},
            "queues": [{"name": n} for n in
                       ("general", "logistics", "sales", "billing", "technical", "accounts")],
            "logging": {"level": "warning"},
        }
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return Settings.model_validate(data)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def client(aiohttp_client: Callable[..., Any], settings: Settings) -> TestClient:
    """The whole gateway on a loopback port (store, KB, outbox, connectors running)."""
    from gateway.app import create_app

    app: web.Application = create_app(settings)
    return await aiohttp_client(app)


@pytest.fixture
def api_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="session")
def demo_kb() -> Iterator[Path]:
    yield DEMO_KB
