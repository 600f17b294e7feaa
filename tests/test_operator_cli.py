"""Operators from the command line: `create-operator` and `set-password` apply the console's
password policy, refuse unknown queues and languages, and a changed password ends sessions.
The configured admin password is applied once; later changes are reported, not ignored
silently. Through the CLI and the running process's console, over HTTP."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.conftest import DEMO_KB, ROOT
from tests.test_ops import free_port

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def cli(config: Path, *args: str, password: str = "", env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    return subprocess.run([sys.executable, "-m", "gateway.cli", args[0], "--config",
                           str(config), *args[1:]], input=password + "\n", cwd=ROOT,
                          env={**clean, **(env or {})}, capture_output=True, text=True,
                          timeout=120)


def write_config(tmp_path: Path, port: int = 8080) -> Path:
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[server]\nport = {port}\n[database]\nurl = "sqlite:hd.db"\n'
        f'[knowledge_base]\npath = "{DEMO_KB}"\n[logging]\nformat = "json"\n'
        '[[queues]]\nname = "general"\n[[queues]]\nname = "sales"\n', encoding="utf-8")
    return config


def test_create_operator_applies_the_policy_and_knows_the_queues_and_languages(
        tmp_path: Path) -> None:
    config = write_config(tmp_path)
    for args, password, said in (
        (["--queues", "sales"], "qwerty123456", "among the most common"),
        (["--queues", "sales"], "eva-the-agent"[:11], "at least 12 characters"),
        (["--queues", "sales"], "            ", "empty"),
        (["--queues", "sales,nowhere"], "Quiet-Harbour-77", "no queue named nowhere"),
        (["--languages", "en,xx"], "Quiet-Harbour-77", "language xx is not supported"),
    ):
        refused = cli(config, "create-operator", "eva", "--password-stdin", *args,
                      password=password)
        assert refused.returncode == 2, (args, refused.stdout)
        assert said in refused.stderr, (args, refused.stderr)
    created = cli(config, "create-operator", "eva", "--queues", "sales", "--languages", "nl",
                  "--password-stdin", password="Quiet-Harbour-77")
    assert created.returncode == 0, created.stderr
    again = cli(config, "create-operator", "eva", "--password-stdin", password="Other-Harbour-88")
    assert again.returncode == 1 and "set-password eva" in again.stderr


async def _start(config: Path, port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run", "--config",
                                str(config)], cwd=ROOT, env={**clean, **env},
                               stderr=subprocess.PIPE, text=True)
    async with aiohttp.ClientSession() as session, asyncio.timeout(90):
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.2)


async def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.to_thread(process.communicate, timeout=60)
    return stderr


def _browser() -> aiohttp.ClientSession:
    """A client that keeps the cookies of 127.0.0.1 (aiohttp drops IP hosts' by default)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _login(session: aiohttp.ClientSession, base: str, password: str) -> int:
    async with session.get(f"{base}/console/login") as form:
        csrf = CSRF.search(await form.text())
    assert csrf is not None
    async with session.post(f"{base}/console/login", allow_redirects=False, data={
            "csrf": csrf.group(1), "username": "admin", "password": password}) as response:
        return response.status


async def test_a_later_admin_password_is_reported_and_set_password_applies_it(
        tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = write_config(tmp_path, port)
    first, second = "First-Lantern-2026", "Second-Lantern-2026"
    process = await _start(config, port, {"HELPDESK_CONSOLE__ADMIN__PASSWORD": first})
    try:
        stderr = await _stop(process)
    finally:
        process.kill() if process.poll() is None else None
    assert '"event": "auth.admin_created"' in stderr

    process = await _start(config, port, {"HELPDESK_CONSOLE__ADMIN__PASSWORD": second})
    try:
        async with _browser() as old_browser, _browser() as other:
            assert await _login(other, base, second) == 401  # not applied...
            assert await _login(old_browser, base, first) == 303
            async with old_browser.get(f"{base}/console", allow_redirects=False) as page:
                assert page.status == 200
            reset = await asyncio.to_thread(cli, config, "set-password", "admin",
                                            "--password-stdin", password="common")
            assert reset.returncode == 2 and "at least 12" in reset.stderr
            reset = await asyncio.to_thread(cli, config, "set-password", "admin",
                                            "--password-stdin", password=second)
            assert reset.returncode == 0, reset.stderr
            async with old_browser.get(f"{base}/console", allow_redirects=False) as page:
                assert page.status == 303  # the session opened with the old password ended
            assert await _login(other, base, second) == 303
        stderr = await _stop(process)
    finally:
        process.kill() if process.poll() is None else None
    # ...and said so at start-up, with what to do instead
    warning = next(line for line in stderr.splitlines() if "auth.admin_password_ignored" in line)
    assert "helpdesk-gateway set-password admin" in warning
    assert first not in stderr and second not in stderr
