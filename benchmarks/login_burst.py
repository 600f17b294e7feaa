"""How long /healthz takes while a burst of bad console logins is being hashed.

Starts the real gateway process (SQLite, loopback), then measures /healthz latency idle (the
baseline, same run) and during `--logins` concurrent failed logins (distinct unknown
usernames, so every one is hashed; the per-address lockout is raised for the run). Prints
one JSON object. Argon2 in a worker thread keeps /healthz near its idle latency; on the
event loop it waits for the hashes queued before it.

    .venv/bin/python benchmarks/login_burst.py --logins 40
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _healthz_ms(session: aiohttp.ClientSession, base: str) -> float:
    started = time.perf_counter()
    async with session.get(f"{base}/healthz") as response:
        assert response.status == 200
    return (time.perf_counter() - started) * 1000


async def measure(base: str, logins: int) -> dict[str, object]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar,
                                     connector=aiohttp.TCPConnector(limit=0)) as session:
        async with asyncio.timeout(120):
            while True:
                try:
                    async with session.get(f"{base}/console/login") as form:
                        token = re.search(r'name="csrf" value="([^"]+)"', await form.text())
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.2)
        assert token is not None
        idle = [await _healthz_ms(session, base) for _ in range(20)]

        async def bad_login(number: int) -> None:
            async with session.post(f"{base}/console/login", data={
                    "csrf": token.group(1), "username": f"nobody{number}",
                    "password": "not-the-password"}) as response:
                assert response.status == 401, response.status

        started = time.perf_counter()
        burst = [asyncio.create_task(bad_login(n)) for n in range(logins)]
        during = []
        while not all(task.done() for task in burst):
            during.append(await _healthz_ms(session, base))
        await asyncio.gather(*burst)
        burst_s = time.perf_counter() - started
    return {"logins": logins, "burst_seconds": round(burst_s, 2),
            "healthz_idle_ms_p50": round(statistics.median(idle), 1),
            "healthz_during_burst_ms_p50": round(statistics.median(during), 1),
            "healthz_during_burst_ms_max": round(max(during), 1),
            "healthz_samples_during_burst": len(during)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--logins", type=int, default=40)
    args = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "gateway.toml"
        config.write_text(
            f'[server]\nport = {port}\n[database]\nurl = "sqlite:{Path(tmp) / "hd.db"}"\n'
            f'[knowledge_base]\npath = "{ROOT / "config" / "kb"}"\n[logging]\nlevel = "error"\n'
            f'[console.login]\nmax_failures_per_address = {args.logins * 10}\n',
            encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
        process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run", "--config",
                                    str(config)], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        try:
            result = asyncio.run(measure(f"http://127.0.0.1:{port}", args.logins))
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
