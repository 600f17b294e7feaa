"""Operations: health and readiness, hot reload of the KB, a database outage, the process."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp.test_utils import TestClient

from gateway.config.settings import Settings
from tests.conftest import DEMO_KB, PG_ADMIN_DSN, ROOT


async def test_healthz_and_readyz(client: TestClient) -> None:
    assert (await client.get("/healthz")).status == 200
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 200, body
    assert body["checks"]["knowledge_base"]["articles"] >= 15
    assert body["checks"]["store"]["ok"] is True


async def ask(client: TestClient, headers: dict[str, str], text: str) -> dict[str, Any]:
    response = await client.post("/api/v1/messages", headers=headers,
                                 json={"customer": {"id": "ops"}, "text": text})
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def eventually(check: Callable[[], Any], timeout: float = 20.0) -> None:
    """Poll `check` (async) until it returns truthy; the limit only guards against a hang
    (a KB rebuild on a loaded 2-core machine takes seconds; speed is for benchmarks)."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


async def test_kb_edits_apply_without_restart_and_broken_edits_keep_last_good(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        tmp_path: Path, api_headers: dict[str, str]) -> None:
    from gateway.app import create_app

    kb = tmp_path / "kb"
    shutil.copytree(DEMO_KB, kb)
    client = await aiohttp_client(create_app(make_settings(
        knowledge_base={"path": str(kb), "reload_interval": 0.2})))
    question = "Do you sell gift vouchers for birthdays?"
    assert (await ask(client, api_headers, question))["replies"][0]["kind"] == "handoff"

    (kb / "gift-vouchers.yaml").write_text(
        "id: gift-vouchers\ncategory: sales\ntranslations:\n  en:\n    title: Gift vouchers\n"
        "    questions:\n      - Do you sell gift vouchers?\n      - can I buy a gift card\n"
        "      - gift voucher for a birthday\n    answer: Yes, from 25 euro in every shop.\n",
        encoding="utf-8")

    async def answered() -> bool:
        reply = (await ask(client, api_headers, question))["replies"][0]
        return reply.get("article_id") == "gift-vouchers"

    await eventually(answered)

    (kb / "gift-vouchers.yaml").write_text("id: gift-vouchers\ncategory: [broken\n",
                                           encoding="utf-8")

    async def error_shown() -> bool:
        body = await (await client.get("/readyz")).json()
        return any("gift-vouchers.yaml" in e for e in body["checks"]["knowledge_base"]["errors"])

    await eventually(error_shown)
    assert await answered(), "the last good version of the broken file keeps serving"


async def test_an_edited_article_is_updated_then_rebuilt_and_answers_as_a_fresh_gateway(
        aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        tmp_path: Path, api_headers: dict[str, str]) -> None:
    """One file edited under a running gateway: the matcher is updated (only that article
    retrained), the new answer is served, the full rebuild follows, and then every answer
    is a freshly started gateway's; a broken edit keeps the last good answer."""
    from gateway.app import create_app
    from gateway.keys import KB
    from knowledge_base.cases import load_cases

    kb = tmp_path / "kb"
    shutil.copytree(DEMO_KB, kb)
    client = await aiohttp_client(create_app(make_settings(
        knowledge_base={"path": str(kb), "reload_interval": 0.2})))
    question = "is the gearbox of my cargo bike under guarantee"
    path = kb / "warranty.yaml"
    text = path.read_text(encoding="utf-8")
    assert "    questions:\n" in text
    other = "how long does delivery take"
    assert (await ask(client, api_headers, other))["replies"][0]["article_id"] == "delivery-time"
    others: list[str | None] = []
    flowing = asyncio.Event()

    async def keep_asking() -> None:  # other customers' answers flow during the reload
        while not flowing.is_set():
            others.append((await ask(client, api_headers, other))["replies"][0]
                          .get("article_id"))

    asker = asyncio.create_task(keep_asking())
    path.write_text(text.replace("    questions:\n", f"    questions:\n      - {question}\n", 1)
                    .replace("answer: |\n", "answer: |\n      Gearboxes too: five years.\n", 1),
                    encoding="utf-8")

    async def answered() -> bool:
        reply = (await ask(client, api_headers, question))["replies"][0]
        return reply.get("article_id") == "warranty" and "Gearboxes too" in reply["text"]

    await eventually(answered)
    flowing.set()
    await asker
    assert others and set(others) == {"delivery-time"}
    assert client.app[KB].updates == 1, "the edit was an update, not a full rebuild"
    assert client.app[KB].files_parsed == 1, "only the edited file was parsed again"

    async def rebuilt() -> bool:
        body = await (await client.get("/readyz")).json()
        return bool(body["checks"]["knowledge_base"]["build"] == "full")

    await eventually(rebuilt)
    fresh = await aiohttp_client(create_app(make_settings(
        database={"url": f"sqlite:{tmp_path / 'fresh.db'}"},
        knowledge_base={"path": str(kb), "reload_interval": 60})))
    sample = [case.text for case in load_cases(ROOT / "config" / "kb-tests.yaml")[::3]]
    for n, text in enumerate([*sample, question]):
        replies = []
        for gateway in (client, fresh):  # a new customer each: no follow-up context
            response = await gateway.post("/api/v1/messages", headers=api_headers, json={
                "customer": {"id": f"sample-{n}"}, "text": text})
            assert response.status == 201
            replies.append((await response.json())["replies"][0])
        got, want = replies
        assert (got["kind"], got.get("article_id"), got["text"]) == (
            want["kind"], want.get("article_id"), want["text"]), text

    path.write_text(path.read_text(encoding="utf-8") + "  - [unclosed\n", encoding="utf-8")

    async def error_shown() -> bool:
        body = await (await client.get("/readyz")).json()
        return any("warranty.yaml" in e for e in body["checks"]["knowledge_base"]["errors"])

    await eventually(error_shown)
    assert await answered(), "the last good version of the broken file keeps serving"


async def test_database_outage_gives_a_clear_error_and_recovers(
        pg_url: str, aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings],
        api_headers: dict[str, str]) -> None:
    from gateway.app import create_app

    client = await aiohttp_client(create_app(make_settings(database={"url": pg_url})))
    assert (await ask(client, api_headers, "hello"))["message_id"]
    name = pg_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE datname = $1", name)
        response = await client.post("/api/v1/messages", headers=api_headers,
                                     json={"customer": {"id": "ops"}, "text": "still there?",
                                           "message_id": "during-outage"})
        assert response.status == 503
        assert "storage unavailable" in (await response.json())["error"]
        ready = await client.get("/readyz")
        assert ready.status == 503
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
    response = await client.post("/api/v1/messages", headers=api_headers,
                                 json={"customer": {"id": "ops"}, "text": "still there?",
                                       "message_id": "during-outage"})
    assert response.status == 201


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_gateway_process_serves_and_shuts_down_cleanly(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[server]\nport = {port}\n[database]\nurl = "sqlite:var/hd.db"\n'
        f'[knowledge_base]\npath = "{DEMO_KB}"\n[logging]\nformat = "json"\n', encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run", "--config",
                                str(config)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(60):
                while True:
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        pass
                    await asyncio.sleep(0.2)
            async with session.get(f"http://127.0.0.1:{port}/") as response:
                assert "widget.js" in await response.text()
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(process.communicate, timeout=30)
        assert process.returncode == 0, stderr
        assert '"event": "gateway.stopped"' in stderr
        assert (tmp_path / "var" / "hd.db").exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_create_operator_cli_then_check_config(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[database]\nurl = "sqlite:hd.db"\n', encoding="utf-8")
    cli = [sys.executable, "-m", "gateway.cli"]
    created = subprocess.run([*cli, "create-operator", "--config", str(config), "eva",
                              "--role", "supervisor", "--password-stdin"],
                             input="correct horse\n", capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    assert "operator eva (supervisor) created" in created.stdout
    short = subprocess.run([*cli, "create-operator", "--config", str(config), "bob",
                            "--password-stdin"], input="short\n", capture_output=True, text=True,
                           timeout=60)
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    checked = subprocess.run([*cli, "check-config", "--config", str(config)],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and ": ok" in checked.stdout
