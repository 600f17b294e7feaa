"""Gateway replicas on one PostgreSQL database under the REST API load (issue 21).

For 1, 2 and 3 replicas in turn (each time on a fresh database), real gateway processes
(`python -m gateway.cli run`) serve the API on their own ports and the load goes to them
round-robin. After each load the database is checked: every message stored once, every
message answered once, no HTTP error. One replica in the same run is the baseline.

    .venv/bin/python benchmarks/replicas.py [--replicas 1 2 3] [--requests 1500]
        [--concurrency 16] [--admin-dsn postgresql://postgres@127.0.0.1:5432/postgres]

Prints one JSON object. Each replica's CPU use (from /proc) is reported with the machine's
cores, so the scaling reads on a bigger machine: on 2 cores, three replicas plus the load
generator and PostgreSQL share two cores, and throughput cannot grow with replicas.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "replicas-bench-key-" + "x" * 24
QUESTIONS = [
    "How long does delivery take?", "Hoe lang duurt de levering?",
    "Combien de temps prend la livraison ?", "Mein Akku lädt nicht mehr",
    "What is the capital of Peru?", "I want to talk to a person",
]
QUEUES = ("general", "logistics", "sales", "billing", "technical", "accounts")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config(database_url: str, port: int) -> str:
    lines = [
        "[server]", 'host = "127.0.0.1"', f"port = {port}",
        "[database]", f"url = {json.dumps(database_url)}",
        "[knowledge_base]", f"path = {json.dumps(str(ROOT / 'config' / 'kb'))}",
        "[api.integrations.bench]", f"key = {json.dumps(API_KEY)}",
        "[logging]", 'level = "error"',
    ]
    for queue in QUEUES:
        lines += ["[[queues]]", f"name = {json.dumps(queue)}"]
    return "\n".join(lines) + "\n"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Replica:
    def __init__(self, database_url: str, workdir: Path, name: str) -> None:
        self.port = free_port()
        self.path = workdir / f"{name}.toml"
        self.path.write_text(config(database_url, self.port), encoding="utf-8")
        self.log = workdir / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT),
               "HELPDESK_CONSOLE__ADMIN__PASSWORD": "replicas-bench-" + uuid.uuid4().hex}
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gateway.cli", "run", "--config", str(self.path),
                cwd=str(ROOT), env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log,
                stderr=log)

    async def ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.returncode is not None:
                    raise RuntimeError(f"replica exited: {self.log.read_text()[-2000:]}")
                try:
                    async with session.get(f"{self.url}/readyz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise TimeoutError(f"replica on {self.port} not ready: {self.log.read_text()[-2000:]}")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await asyncio.wait_for(self.proc.wait(), 30)


async def load(replicas: list[Replica], requests: int, concurrency: int,
               run: str) -> dict[str, Any]:
    """`requests` API messages, spread round-robin; latencies and errors per replica."""
    counter = iter(range(requests))
    latencies: list[float] = []
    served = [0] * len(replicas)
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {API_KEY}"}

    async def worker(session: aiohttp.ClientSession) -> None:
        for n in counter:
            at = n % len(replicas)
            body = {"customer": {"id": f"{run}-c{n % 300}"}, "message_id": f"{run}-{n}",
                    "text": QUESTIONS[n % len(QUESTIONS)]}
            started = time.perf_counter()
            try:
                async with session.post(f"{replicas[at].url}/api/v1/messages", json=body,
                                        headers=headers) as response:
                    await response.read()
                    if response.status != 201:
                        errors.append(f"HTTP {response.status}")
                        continue
            except aiohttp.ClientError as exc:
                errors.append(type(exc).__name__)
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            served[at] += 1

    pids = [r.proc.pid for r in replicas if r.proc is not None]
    cpu_before = [cpu_seconds(pid) for pid in pids]
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
    latencies.sort()
    return {
        "seconds": round(elapsed, 2),
        "ok": len(latencies), "errors": len(errors), "error_kinds": sorted(set(errors)),
        "per_second": round(len(latencies) / elapsed, 1),
        "per_replica_per_second": [round(n / elapsed, 1) for n in served],
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2) if latencies else None,
        "cores_used_per_replica": [round(c / elapsed, 2) for c in cpu],
    }


async def check(database_url: str, run: str) -> dict[str, int]:
    """What the database holds for this run: duplicates and unanswered messages."""
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT COUNT(*) AS inbound, COUNT(DISTINCT channel_message_id) AS distinct_ids"
            " FROM messages WHERE direction = 'inbound' AND channel_message_id LIKE $1",
            f"bench:{run}-%")
        # The API opens a conversation per message without `conversation_id`: each of
        # this run's conversations must hold as many bot replies as customer messages.
        uneven = await conn.fetchval(
            "SELECT COUNT(*) FROM (SELECT m.conversation_id FROM messages m"
            " WHERE m.conversation_id IN (SELECT conversation_id FROM messages"
            "  WHERE direction = 'inbound' AND channel_message_id LIKE $1)"
            " GROUP BY m.conversation_id HAVING"
            " SUM(CASE WHEN m.direction = 'inbound' THEN 1 ELSE 0 END) <>"
            " SUM(CASE WHEN m.direction = 'outbound' THEN 1 ELSE 0 END)) AS t", f"bench:{run}-%")
        unhandled = await conn.fetchval(
            "SELECT COUNT(*) FROM messages WHERE direction = 'inbound' AND handled = 0"
            " AND channel_message_id LIKE $1", f"bench:{run}-%")
    finally:
        await conn.close()
    return {"inbound": row["inbound"], "duplicates": row["inbound"] - row["distinct_ids"],
            "unhandled": unhandled, "conversations_without_one_reply_each": uneven}


async def scenario(admin_dsn: str, count: int, requests: int,
                   concurrency: int) -> dict[str, Any]:
    name = f"hgw_replicas_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"{admin_dsn.rsplit('/', 1)[0]}/{name}"
    replicas: list[Replica] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            replicas = [Replica(url, Path(tmp), f"r{n}") for n in range(count)]
            for replica in replicas:  # started together: bootstrap must be idempotent
                await replica.start()
            await asyncio.gather(*(r.ready() for r in replicas))
            await load(replicas, 60, 4, "warm")  # language detector, KB index, pools
            result = await load(replicas, requests, concurrency, "run")
            result["stored"] = await check(url, "run")
            for replica in replicas:
                await replica.stop()
    finally:
        for replica in replicas:
            await replica.stop()
        admin = await asyncpg.connect(admin_dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return {"replicas": count, **result}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--admin-dsn", default=os.environ.get(
        "HELPDESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    runs = [await scenario(args.admin_dsn, n, args.requests, args.concurrency)
            for n in args.replicas]
    baseline = runs[0]["per_second"] or 1.0
    for run in runs:
        run["vs_first"] = round(run["per_second"] / baseline, 2)
    print(json.dumps({"benchmark": "replicas", "cores": os.cpu_count(),
                      "concurrency": args.concurrency, "requests": args.requests,
                      "runs": runs}))


if __name__ == "__main__":
    asyncio.run(main())
