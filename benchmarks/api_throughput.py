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

from gateway.app import create_app  # noqa: E402
from gateway.config.settings import Settings  # noqa: E402

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
        runner, base = await serve(create_app(settings))
        await load(base, 50, 4, "warm-up")  # warm-up: language detector, KB index
        results["gateway"] = await load(base, args.requests, args.concurrency, "run")
        await runner.cleanup()
    results["gateway_vs_bare"] = round(
        results["gateway"]["per_second"] / results["bare_aiohttp"]["per_second"], 3)
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())
