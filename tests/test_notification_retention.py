"""Retention of operators' notifications (issue 16): read ones older than
`[retention] notifications_read_days` go, each operator keeps at most
`notifications_unread_max` unread (the newest), in bounded batches, on both engines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.access.auth import hash_password
from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.keys import STORE
from gateway.models import utcnow
from gateway.privacy import retention
from gateway.store import codec
from tests.test_replicas import _login


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database={"url": database_url}, retention={
        "notifications_read_days": 30, "notifications_unread_max": 3})


async def _notice(client: TestClient, operator_id: int, text: str, *, days: int,
                  read: bool) -> None:
    """A notification `days` old, read then if `read`."""
    store, then = client.app[STORE], codec.ts(utcnow() - timedelta(days=days))
    await store.add_notification(operator_id, "mention", None, "gina", text)
    await store.db.execute(
        "UPDATE operator_notifications SET created_at = ?, read_at = ? WHERE id ="
        " (SELECT MAX(id) FROM operator_notifications)", then, then if read else None)


async def test_old_read_and_surplus_unread_notifications_go_in_batches(
        aiohttp_client: Callable[..., Any], settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    client: TestClient = await aiohttp_client(create_app(settings))
    store = client.app[STORE]
    admin = await store.operator_by_username("admin")
    colleague = await store.create_operator("bo", "Bo", hash_password("bo-password-12"),
                                            role="agent", queues=["general"])
    assert admin is not None
    for n in range(5):
        await _notice(client, admin.id, f"old read {n}", days=40, read=True)
    await _notice(client, admin.id, "recent read", days=1, read=True)
    await _notice(client, admin.id, "old unread", days=40, read=False)
    for n in range(4):
        await _notice(client, admin.id, f"unread {n}", days=2, read=False)
    await _notice(client, colleague.id, "bo's old unread", days=40, read=False)
    await _notice(client, colleague.id, "bo's second unread", days=40, read=False)

    monkeypatch.setattr(retention, "NOTIFICATION_BATCH", 2)
    monkeypatch.setattr(retention, "NOTIFICATION_BATCHES", 2)
    passes = [(await retention.purge(store, settings.retention)).notifications
              for _ in range(4)]
    assert passes == [4, 3, 0, 0]  # two statements of two a pass; the next pass goes on

    kept = [n.text for n in await store.notifications(admin.id)]
    assert kept == ["unread 3", "unread 2", "unread 1", "recent read"]
    assert await store.unread_notifications(admin.id) == 3
    assert await store.unread_notifications(colleague.id) == 2  # under the cap: kept
    await _login(client)
    page = await (await client.get("/console/notifications")).text()
    assert "recent read" in page and "old read" not in page and "old unread" not in page


async def test_zero_keeps_every_notification(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        database_url: str) -> None:
    settings = make_settings(database={"url": database_url}, retention={
        "notifications_read_days": 0, "notifications_unread_max": 0})
    client: TestClient = await aiohttp_client(create_app(settings))
    store = client.app[STORE]
    admin = await store.operator_by_username("admin")
    assert admin is not None
    for n in range(3):
        await _notice(client, admin.id, f"ancient {n}", days=900, read=n == 0)
    assert (await retention.purge(store, settings.retention)).notifications == 0
    assert len(await store.notifications(admin.id)) == 3
