"""Two gateway replicas on one PostgreSQL database: what happens on one shows live on the
other (the hub's relay over LISTEN/NOTIFY), for the console and for the customer's chat."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.keys import HUB
from tests.conftest import ADMIN_PASSWORD, API_KEY, DEMO_KB, ROOT
from tests.test_ops import free_port
from tests.test_webchat import hello, receive_until

pytestmark = pytest.mark.postgres
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def _replica(aiohttp_client: Callable[..., Any], settings: Settings) -> TestClient:
    client: TestClient = await aiohttp_client(create_app(settings))
    relay_ready = asyncio.get_running_loop().time() + 10
    while not client.app[HUB].relayed:  # the relay attaches when the app has started
        assert asyncio.get_running_loop().time() < relay_ready
        await asyncio.sleep(0.05)
    return client


async def _login(client: TestClient) -> str:
    form = await (await client.get("/console/login")).text()
    done = await client.post("/console/login", data={
        "csrf": CSRF.search(form).group(1),  # type: ignore[union-attr]
        "username": "admin", "password": ADMIN_PASSWORD})
    found = CSRF.search(await done.text())
    assert done.status == 200 and found is not None
    return found.group(1)


async def test_changes_on_one_replica_reach_clients_of_the_other(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        pg_url: str) -> None:
    # Replica A's outbox only polls once a minute: B's sends everything, so the customer's
    # chat on A can only hear of the operator's reply through the relay.
    a = await _replica(aiohttp_client, make_settings(
        database={"url": pg_url}, outbox={"poll_interval": 60}))
    b = await _replica(aiohttp_client, make_settings(database={"url": pg_url}))
    await asyncio.sleep(0.3)  # both listening

    await _login(a)
    async with a.ws_connect("/console/ws") as console, a.ws_connect("/chat/ws") as chat:
        await hello(chat)
        await asyncio.sleep(0.2)  # the socket's subscriptions are in place
        # a new ticket through replica B's API: A's open console page is told
        made = await b.post("/api/v1/messages", headers={"Authorization": f"Bearer {API_KEY}"},
                            json={"customer": {"id": "r1"}, "text": "I want a human"})
        assert made.status == 201
        changed = await console.receive_json(timeout=10)
        assert changed == {"type": "changed", "topic": "tickets"}

        # the chat customer on A hands off, an operator on B replies: it arrives live on A
        await chat.send_json({"type": "message", "client_id": "q", "text": "I want a human"})
        handoff = await receive_until(chat, "message", kind="handoff")
        ticket = re.search(r"#(\d+)", handoff["text"])
        assert ticket is not None
        csrf = await _login(b)
        replied = await b.post(f"/console/tickets/{ticket.group(1)}/reply",
                               data={"csrf": csrf, "text": "Hello from replica B"})
        assert replied.status == 200
        reply = await receive_until(chat, "message", author="operator")
        assert reply["text"] == "Hello from replica B"


async def test_a_replica_without_postgresql_has_no_relay(client: TestClient) -> None:
    assert not client.app[HUB].relayed  # SQLite: one process, nothing to relay


async def test_replicas_started_together_on_a_fresh_database_all_come_up(
        pg_url: str, tmp_path: Path) -> None:
    # Real processes, started at once: all migrate and all bootstrap the admin. None may
    # crash on another's rows (the second used to die on the admin's unique username).
    processes, ports = [], []
    for n in range(3):
        ports.append(free_port())
        config = tmp_path / f"replica{n}.toml"
        config.write_text(
            f'[server]\nport = {ports[-1]}\n[database]\nurl = "{pg_url}"\n'
            f'[knowledge_base]\npath = "{DEMO_KB}"\n[logging]\nlevel = "warning"\n',
            encoding="utf-8")
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "run", "--config", str(config)], cwd=ROOT,
            stderr=subprocess.PIPE, text=True,
            env={**os.environ, "HELPDESK_CONSOLE__ADMIN__PASSWORD": ADMIN_PASSWORD}))
    try:
        async with aiohttp.ClientSession() as session:
            for process, port in zip(processes, ports, strict=True):
                async with asyncio.timeout(120):
                    while not await _ready(session, port):
                        assert process.poll() is None, process.communicate()[1][-3000:]
                        await asyncio.sleep(0.2)
        admin = await asyncpg.connect(pg_url)
        try:
            assert await admin.fetchval("SELECT COUNT(*) FROM operators") == 1
        finally:
            await admin.close()
    finally:
        for process in processes:
            process.kill()
            process.communicate()  # reaps it and closes its pipe


async def _ready(session: aiohttp.ClientSession, port: int) -> bool:
    try:
        async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
            return response.status == 200
    except aiohttp.ClientConnectionError:
        return False


async def test_the_relay_reconnects_after_its_backend_is_killed(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        pg_url: str) -> None:
    client = await _replica(aiohttp_client, make_settings(database={"url": pg_url}))

    async def relay_state() -> dict[str, Any]:
        body = await (await client.get("/readyz")).json()
        return dict(body["checks"]["relay"])

    async def until(check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        async with asyncio.timeout(30):
            while not check(state := await relay_state()):
                await asyncio.sleep(0.1)
        return state

    await until(lambda s: s["connected"])
    admin = await asyncpg.connect(pg_url)
    try:
        killed = await admin.fetchval(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN%'")
        assert killed is True
        # An idle relay used to sit on its dead connection for good: nothing heard again.
        state = await until(lambda s: s["connected"] and s["reconnects"] >= 1)
        assert state["last_error"]
        heard = client.app[HUB].subscribe("tickets")
        async with asyncio.timeout(30):
            while heard.empty():  # a notification from "another replica" crosses again
                await admin.execute("SELECT pg_notify('hgw_hub', $1)", json.dumps(
                    {"o": "other-replica", "t": "tickets", "p": {"ticket_id": 7}}))
                await asyncio.sleep(0.2)
        assert heard.get_nowait() == {"ticket_id": 7}
    finally:
        await admin.close()
