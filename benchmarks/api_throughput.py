"""Messages per second through the whole gateway (REST API channel → pipeline → KB → outbox),
against a bare aiohttp JSON endpoint measured in the same run as the baseline.

    .venv/bin/python benchmarks/api_throughput.py [--requests 2000] [--concurrency 16]
        [--database sqlite|postgresql://...] [--compare DIR ...] [--profile FILE]
        [--no-in-process]

Production-like (since issue 21's second pass): the gateway (`python -m gateway.cli run`, as
deployed) and the bare aiohttp endpoint each run in a process of their own, one event loop
each, driven in turn by the same load generator (this process) at the same concurrency, so
the ratio compares two servers alike rather than a server sharing its core with the client.
Each server's CPU time is read from /proc: `cpu_ms_per_request` is what one message costs
the gateway's process. `--compare DIR` runs the gateway of another checkout (e.g. a
worktree of an older commit) in the same run, against the same baseline, on a database of
its own; `--profile FILE` runs the gateway process under cProfile (written at its exit).

The earlier in-process figures (bare endpoint and gateway served from this process, sharing
its event loop with the load generator) are kept under `in_process` for continuity, and the
SQL statement counts come from that in-process gateway (they are counted through the
drivers in this process). Prints one JSON object. Traffic stays on 127.0.0.1; the run is
bounded by --requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.replicas import cpu_seconds, free_port  # noqa: E402
from benchmarks.sql_count import Tally, count_requests  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.config.settings import Settings  # noqa: E402

#: One question of each kind the statement count reports on.
ANSWERED = "How long does delivery take?"
HANDOFF = "I want to talk to a person"

QUESTIONS = [
    "How long does delivery take?", "Hoe lang duurt de levering?",
    "Combien de temps prend la livraison ?", "Can I do a test ride?",
    "Mein Akku lädt nicht mehr", "What is the capital of Peru?", "I want to talk to a person",
    "Quels sont vos horaires d'ouverture ?",
]


async def bare_app() -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"echo": body["text"]}, status=201)

    app = web.Application()
    app.router.add_post("/api/v1/messages", handler)
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def load(url: str, requests: int, concurrency: int, run: str) -> dict[str, float]:
    latencies: list[float] = []
    counter = iter(range(requests))
    headers = {"Authorization": "Bearer bench-key"}

    async def worker(session: aiohttp.ClientSession) -> None:
        for n in counter:
            body = {"customer": {"id": f"bench-{n % 200}"}, "text": QUESTIONS[n % len(QUESTIONS)],
                    "message_id": f"{run}-{n}"}
            started = time.perf_counter()
            async with session.post(f"{url}/api/v1/messages", json=body, headers=headers) as r:
                await r.read()
                if r.status != 201:
                    raise RuntimeError(f"HTTP {r.status}")
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
    }


async def statements(url: str, tallies: list[Tally], rounds: int = 10) -> dict[str, Any]:
    """SQL statements per message, counted through the driver for the requests' own tasks
    (BEGIN, COMMIT and pool resets included; the outbox worker's delivery not): a first
    answered message of a known customer (what the load sends), an answered follow-up in
    the same conversation, and a hand-off. Deterministic: the same figures every run."""
    headers = {"Authorization": "Bearer bench-key"}
    seen: dict[str, list[Tally]] = {"answered": [], "answered_follow_up": [], "handoff": []}

    async def post(session: aiohttp.ClientSession, body: dict[str, Any]) -> Tally:
        async with session.post(f"{url}/api/v1/messages", json=body, headers=headers) as r:
            await r.read()
            if r.status != 201:
                raise RuntimeError(f"HTTP {r.status}")
        return tallies[-1]

    async with aiohttp.ClientSession() as session:
        for n in range(rounds):
            customer = {"id": f"bench-{n}"}  # known: the load wrote as them already
            first = await post(session, {"customer": customer, "text": ANSWERED,
                                         "message_id": f"count-a-{n}"})
            seen["answered"].append(first)
            follow = await post(session, {"customer": customer, "text": ANSWERED,
                                          "message_id": f"count-b-{n}",
                                          "conversation_id": first.response["conversation_id"]})
            seen["answered_follow_up"].append(follow)
            seen["handoff"].append(await post(session, {"customer": customer, "text": HANDOFF,
                                                        "message_id": f"count-h-{n}"}))
    report: dict[str, Any] = {}
    for name, runs in seen.items():
        kinds = [r.response["replies"][0]["kind"] for r in runs]
        expected = "handoff" if name == "handoff" else "answer"
        if any(k != expected for k in kinds):
            raise RuntimeError(f"{name}: the gateway replied {kinds}")
        totals = sorted(r.total for r in runs)
        report[name] = {"statements": totals[len(totals) // 2], "min": totals[0],
                        "max": totals[-1], "breakdown": dict(runs[-1].kinds.most_common())}
    return report


class Server:
    """A server process of its own: the bare endpoint or a gateway (`gateway.cli run`)."""

    def __init__(self, argv: list[str], root: Path, log: Path, port: int = 0) -> None:
        self.argv, self.root, self.log = argv, root, log
        self.port = port or free_port()  # given to the process as its last argument
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, probe: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(self.root),
               "HELPDESK_CONSOLE__ADMIN__PASSWORD": "api-bench-" + uuid.uuid4().hex}
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, str(self.port), cwd=str(self.root), env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 120
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
                try:
                    async with session.get(self.url + probe) as response:
                        if response.status < 500:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise TimeoutError(f"server not ready: {self.log.read_text()[-2000:]}")

    async def load(self, requests: int, concurrency: int, run: str) -> dict[str, float]:
        """The same load as in process, with the CPU this server's process used for it."""
        assert self.proc is not None
        before = cpu_seconds(self.proc.pid)
        result = await load(self.url, requests, concurrency, run)
        cpu = cpu_seconds(self.proc.pid) - before
        result["cores_used"] = round(cpu * result["per_second"] / result["requests"], 2)
        result["cpu_ms_per_request"] = round(cpu * 1000 / result["requests"], 2)
        return result

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await asyncio.wait_for(self.proc.wait(), 60)


def gateway_config(database_url: str, port: int) -> str:
    """The in-process run's settings, as the file a deployment would have."""
    return "\n".join([
        "[server]", 'host = "127.0.0.1"', f"port = {port}",
        "[database]", f"url = {json.dumps(database_url)}",
        "[knowledge_base]", f"path = {json.dumps(str(ROOT / 'config' / 'kb'))}",
        "[api.integrations.bench]", 'key = "bench-key"',
        "[logging]", 'level = "error"',
    ]) + "\n"


async def fresh_database(database: str, tmp: Path, name: str) -> tuple[str, str | None]:
    """A database of its own for one gateway process: its URL, and the PostgreSQL
    database to drop afterwards."""
    if database == "sqlite":
        return f"sqlite:{tmp}/{name}.db", None
    dbname = f"hgw_api_{name}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(database)
    try:
        await admin.execute(f'CREATE DATABASE "{dbname}"')
    finally:
        await admin.close()
    return f"{database.rsplit('/', 1)[0]}/{dbname}", dbname


async def drop_database(database: str, dbname: str | None) -> None:
    if dbname is None:
        return
    admin = await asyncpg.connect(database)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    finally:
        await admin.close()


async def gateway_process(root: Path, args: argparse.Namespace, tmp: Path, name: str,
                          profile: str | None = None) -> dict[str, Any]:
    """The gateway of checkout `root` in a process of its own, under the same load."""
    url, dbname = await fresh_database(args.database, tmp, name)
    config = tmp / f"{name}.toml"
    port = free_port()
    config.write_text(gateway_config(url, port), encoding="utf-8")
    python = [sys.executable] + (["-m", "cProfile", "-o", profile] if profile else [])
    server = Server([*python, "-m", "gateway.cli", "run", "--config", str(config), "--port"],
                    root, tmp / f"{name}.log", port)
    try:
        await server.start("/healthz")
        await server.load(50, 4, "warm-up")  # language detector, KB index, pools
        result = await server.load(args.requests, args.concurrency, "run")
    finally:
        await server.stop()
        await drop_database(args.database, dbname)
    return result


BARE_SERVER = ("import sys; from aiohttp import web; from benchmarks.api_throughput import"
               " bare_app; web.run_app(bare_app(), host='127.0.0.1', port=int(sys.argv[1]),"
               " print=None, access_log=None)")


async def in_process(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """The earlier method: both servers in this process, beside the load generator; the
    statement counts of the gateway."""
    url = f"sqlite:{tmp}/in-process.db" if args.database == "sqlite" else args.database
    settings = Settings.model_validate({
        "database": {"url": url}, "api": {"integrations": {"bench": {"key": "bench-key"}}},
        "knowledge_base": {"path": str(ROOT / "config" / "kb")},
        "logging": {"level": "error"},
    })
    from gateway import logs

    logs.configure("error")
    results: dict[str, Any] = {}
    if args.in_process:
        runner, base = await serve(await bare_app())
        results["bare_aiohttp"] = await load(base, args.requests, args.concurrency, "bare")
        await runner.cleanup()
    app = create_app(settings)
    tallies = count_requests(app)
    runner, base = await serve(app)
    await load(base, 50, 4, "warm-up")  # warm-up: language detector, KB index
    if args.in_process:
        results["gateway"] = await load(base, args.requests, args.concurrency, "run")
        results["gateway_vs_bare"] = round(
            results["gateway"]["per_second"] / results["bare_aiohttp"]["per_second"], 3)
    results["sql_per_message"] = await statements(base, tallies)
    await runner.cleanup()
    return results


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--compare", nargs="*", default=[], metavar="DIR",
                        help="also run the gateway of these checkouts (same run, same load)")
    parser.add_argument("--profile", metavar="FILE",
                        help="run this checkout's gateway process under cProfile into FILE")
    parser.add_argument("--no-in-process", dest="in_process", action="store_false",
                        help="skip the earlier in-process figures (statements still counted)")
    args = parser.parse_args()
    args.compare = [str(Path(other).resolve()) for other in args.compare]  # the cwd of each
    return args


async def main(args: argparse.Namespace) -> None:
    results: dict[str, Any] = {"database": args.database.split("@")[-1],
                               "concurrency": args.concurrency, "requests": args.requests,
                               "cores": os.cpu_count(), "method": "separate processes"}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bare = Server([sys.executable, "-c", BARE_SERVER], ROOT, tmp / "bare.log")
        try:
            await bare.start("/")
            await bare.load(50, 4, "warm-up")
            results["bare_aiohttp"] = await bare.load(args.requests, args.concurrency, "bare")
        finally:
            await bare.stop()
        bare_rate = results["bare_aiohttp"]["per_second"]
        results["gateway"] = await gateway_process(ROOT, args, tmp, "gateway", args.profile)
        results["gateway_vs_bare"] = round(results["gateway"]["per_second"] / bare_rate, 3)
        for n, other in enumerate(args.compare):
            run = await gateway_process(Path(other), args, tmp, f"compare{n}")
            run["vs_bare"] = round(run["per_second"] / bare_rate, 3)
            results.setdefault("compare", {})[other] = run
        in_proc = await in_process(args, tmp)
        results["sql_per_message"] = in_proc.pop("sql_per_message")
        if in_proc:
            results["in_process"] = in_proc
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main(arguments()))
