"""The real gateway as a child process: `python -m gateway.cli run --config FILE`.

The harness writes a TOML configuration (the e-mail connector on, pointed at the fault
proxies), starts the process, waits for `/readyz`, and can SIGKILL and restart it. Its
output goes to a log file next to the configuration, kept for the post-mortem.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.email_live.servers import free_port
from tests.faults.accounting import STALL_SECONDS

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "faults-admin-password"
QUEUES = ("general", "logistics", "sales", "billing", "technical", "accounts")


@dataclass
class GatewayConfig:
    """What differs between runs; everything else is the product's default."""

    database_url: str
    imap_port: int
    smtp_port: int
    mailbox: str
    imap_user: str = "support"
    address: str = "support@velora.test"
    outbox: dict[str, float] = field(default_factory=dict)
    email: dict[str, float] = field(default_factory=dict)  # more `[email]` settings
    log_level: str = "warning"


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def render_config(config: GatewayConfig, port: int) -> str:
    sections: dict[str, dict[str, Any]] = {
        "server": {"host": "127.0.0.1", "port": port,
                   "public_url": f"http://127.0.0.1:{port}", "shutdown_grace": 2.0},
        "database": {"url": config.database_url},
        "company": {"name": "Velora", "email": "support@velora.be", "phone": "+32 9 123 45 67"},
        "knowledge_base": {"path": str(ROOT / "config" / "kb"), "reload_interval": 5.0},
        "console.admin": {"username": "admin"},
        "outbox": dict(config.outbox),
        "email": {
            "enabled": True, "address": config.address, "display_name": "Velora Support",
            "imap_host": "127.0.0.1", "imap_port": config.imap_port, "imap_security": "plain",
            "imap_user": config.imap_user, "mailbox": config.mailbox,
            "smtp_host": "127.0.0.1", "smtp_port": config.smtp_port, "smtp_security": "plain",
            "smtp_user": "",
            # /readyz calls a mail late when the harness counts it as a stall (issue 11)
            "max_waiting_seconds": STALL_SECONDS, **config.email,
        },
        "logging": {"level": config.log_level, "format": "json"},
    }
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in values.items())
        lines.append("")
    for queue in QUEUES:
        lines += ["[[queues]]", f"name = {_toml(queue)}", ""]
    return "\n".join(lines)


class GatewayProcess:
    """One gateway replica; `start`, `kill` (SIGKILL) and `start` again, `stop` (SIGTERM)."""

    def __init__(self, config: GatewayConfig, workdir: Path, name: str = "gw") -> None:
        self.config = config
        self.name = name
        self.config_path = workdir / f"{name}.toml"
        self.log_path = workdir / f"{name}.log"
        self.new_port()
        self.env = {**os.environ, "PYTHONPATH": str(ROOT),
                    "HELPDESK_CONSOLE__ADMIN__PASSWORD": ADMIN_PASSWORD,
                    "HELPDESK_EMAIL__IMAP_PASSWORD": f"{config.imap_user}-pass"}
        self.proc: asyncio.subprocess.Process | None = None
        self.kills = 0
        self.starts = 0
        self.crashes = 0  # exits nobody asked for
        self.startup_seconds: list[float] = []
        #: [ready since, until] in time.time(); until None while it runs.
        self.up: list[list[float | None]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def new_port(self) -> None:
        """Listen on a port free now (the next start uses it)."""
        self.port = free_port()
        self.config_path.write_text(render_config(self.config, self.port), encoding="utf-8")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self, wait_ready: bool = True, timeout: float = 60.0) -> None:
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gateway.cli", "run", "--config", str(self.config_path),
                cwd=str(ROOT), env=self.env, stdin=asyncio.subprocess.DEVNULL,
                stdout=log, stderr=log)
        self.starts += 1
        if wait_ready:
            await self.wait_ready(timeout)
            self.startup_seconds.append(time.monotonic() - started)
            self.up.append([time.time(), None])

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Until `/readyz` answers 200 and the e-mail connector is connected (or waits as
        the standby of a replica that reads the mailbox)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                self.crashes += 1
                raise RuntimeError(f"{self.name} exited with {self.proc and self.proc.returncode}"
                                   f": {self.tail()}")
            ready = await self.readyz()
            email = (ready or {}).get("checks", {}).get("connectors", {}).get("email", {})
            if ready and ready.get("status") == "ready" and \
                    (email.get("connected") or email.get("state") == "standby"):
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout} s: {self.tail()}")

    async def readyz(self) -> dict[str, Any] | None:
        """The `/readyz` document, or None when the process does not answer."""
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http, \
                    http.get(f"{self.url}/readyz") as response:
                return dict(await response.json())
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None

    async def email_health(self) -> dict[str, Any]:
        """The e-mail connector's part of `/readyz` ({} when the process does not answer)."""
        ready = await self.readyz()
        return dict((ready or {}).get("checks", {}).get("connectors", {}).get("email", {}))

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a power cut of the process."""
        if self.running:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()
            self.kills += 1
            self._down()

    async def stop(self) -> None:
        if self.running:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
            self._down()

    def _down(self) -> None:
        if self.up and self.up[-1][1] is None:
            self.up[-1][1] = time.time()

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
