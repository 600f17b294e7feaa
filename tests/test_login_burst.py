"""Argon2 runs off the event loop: while a burst of failed console logins is being hashed,
the same process keeps answering /healthz. A concurrency check, not a stopwatch: it counts
how many /healthz answers arrive while the logins are in flight. With hashing on the event
loop /healthz gets a turn only between hashes (61 answers during 20 logins on the loaded
development machine); off it, it keeps answering (405 to 562)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.conftest import DEMO_KB, ROOT
from tests.test_ops import free_port

LOGINS = 20


async def test_healthz_keeps_answering_while_bad_logins_are_hashed(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = tmp_path / "gateway.toml"
    config.write_text(f'[server]\nport = {port}\n[database]\nurl = "sqlite:hd.db"\n'
                      f'[knowledge_base]\npath = "{DEMO_KB}"\n[logging]\nlevel = "error"\n'
                      '[console.login]\nmax_failures_per_address = 1000\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run", "--config",
                                str(config)], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                         connector=aiohttp.TCPConnector(limit=0)) as session:
            async with asyncio.timeout(90):
                while True:
                    try:
                        async with session.get(f"{base}/console/login") as form:
                            token = re.search(r'name="csrf" value="([^"]+)"', await form.text())
                            break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.2)
            assert token is not None

            async def bad_login(number: int) -> int:
                async with session.post(f"{base}/console/login", data={
                        "csrf": token.group(1), "username": f"nobody{number}",
                        "password": "not-the-password"}) as response:
                    return response.status

            logins = [asyncio.create_task(bad_login(n)) for n in range(LOGINS)]
            answers = 0
            while not all(task.done() for task in logins):
                async with session.get(f"{base}/healthz") as health:
                    assert health.status == 200
                answers += 1
            assert [await task for task in logins] == [401] * LOGINS
        assert answers >= 8 * LOGINS, f"only {answers} /healthz answers during {LOGINS} logins"
    finally:
        process.terminate()
        process.wait(timeout=30)
