"""Erasure by e-mail address matches that address only: `_` and `%` are no wildcards
(through the CLI, on both databases)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from test_personal_data import _cli, _write

from gateway.channels import Identity
from gateway.config.settings import Settings
from gateway.keys import STORE, TICKETS


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database={"url": database_url})


async def notes(client: TestClient, ticket_id: int) -> list[Any]:
    events = await client.app[STORE].events(ticket_id=ticket_id)
    return [e.data.get("text") for e in events if e.type == "ticket.note"]


async def test_erasing_john_doe_leaves_johnadoe_and_percent_matches_nothing_else(
        client: TestClient, api_headers: dict[str, str], tmp_path: Path) -> None:
    store, tickets = client.app[STORE], client.app[TICKETS]
    admin = await store.operator_by_username("admin")
    assert admin is not None
    john = await _write(client, api_headers, {"id": "j", "name": "John Doe",
                                              "email": "john_doe@example.be"},
                        "I want to talk to a human")
    johna = await _write(client, api_headers, {"id": "ja", "name": "Johna Doe",
                                               "email": "johnadoe@example.be"},
                         "I want to talk to a human")
    carl = await _write(client, api_headers, {"id": "c", "name": "Carl"},
                        "I want to talk to a human")
    await tickets.note(admin, johna["ticket_id"], "Reach her at johnadoe@example.be")
    await tickets.note(admin, carl["ticket_id"], "Carl forwarded a mail of john_doe@example.be")
    await tickets.note(admin, carl["ticket_id"], "Also wrote to xjohn_doe@example.be.com")

    code, out, err = await _cli(client, tmp_path, "erase", "john_doe@example.be", "--yes")
    assert code == 0, err
    assert json.loads(out)["customer_id"] == john["customer_id"]
    assert await notes(client, johna["ticket_id"]) == ["Reach her at johnadoe@example.be"]
    assert await notes(client, carl["ticket_id"]) == [
        None, "Also wrote to xjohn_doe@example.be.com"]  # the mention went, the other stays
    johnadoe = await store.get_customer(johna["customer_id"])
    assert johnadoe is not None and johnadoe.name == "Johna Doe"

    # an address of "%" (from before addresses were checked) names nobody else
    percent = await store.resolve_customer(Identity("email", "%", "Percy", "%"))
    events_before = await store.db.fetchall("SELECT id, data FROM events ORDER BY id")
    code, out, err = await _cli(client, tmp_path, "erase", "%", "--yes")
    assert code == 0, err
    assert json.loads(out)["customer_id"] == percent.id
    assert json.loads(out)["events"] == 0
    events_after = await store.db.fetchall("SELECT id, data FROM events ORDER BY id")
    assert [dict(r) for r in events_after[:len(events_before)]] == \
        [dict(r) for r in events_before]
    assert await notes(client, johna["ticket_id"]) == ["Reach her at johnadoe@example.be"]
