"""Messages per second through the whole gateway (REST API channel → pipeline → KB → outbox),
against a bare aiohttp JSON endpoint measured in the same run as the baseline.

    .venv/bin/python benchmarks/api_throughput.py [--requests 2000] [--concurrency 16]
    [--database sqlite|postgresql://...]

Prints one JSON object. Traffic stays on 127.0.0.1; the run is bounded by --requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database", default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:{tmp}/bench.db" if args.database == "sqlite" else args.database
        settings = Settings.model_validate({
            "database": {"url": url}, "api": {"integrations": {"bench": {"key": "bench-key"}}},
            "knowledge_base": {"path": str(ROOT / "config" / "kb")},
            "logging": {"level": "error"},
        })
        from gateway import logs

        logs.configure("error")
        results: dict[str, Any] = {"database": args.database.split("@")[-1],
                                   "concurrency": args.concurrency}
        runner, base = await serve(await bare_app())
        results["bare_aiohttp"] = await load(base, args.requests, args.concurrency, "bare")
        await runner.cleanup()
        app = create_app(settings)
        tallies = count_requests(app)
        runner, base = await serve(app)
        await load(base, 50, 4, "warm-up")  # warm-up: language detector, KB index
        results["gateway"] = await load(base, args.requests, args.concurrency, "run")
        results["sql_per_message"] = await statements(base, tallies)
        await runner.cleanup()
    results["gateway_vs_bare"] = round(
        results["gateway"]["per_second"] / results["bare_aiohttp"]["per_second"], 3)
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())
