"""Hot reload of one edited file in a 15,000-question KB, under the REST API load.

The KB is CLINC150's full train split (150 articles of 100 questions each, one YAML file
per intent, as `benchmarks/kb_quality.py` builds it), served by the whole gateway
(`create_app`, SQLite) on a loopback port; 16 clients send CLINC150 test questions. In one
run, one after the other:

- **steady**: the load alone, `--seconds` long (the baseline);
- **update** (what the gateway does): one article file is edited (a new question and a
  new answer) while the load runs; measured: the time from the write until the API serves
  the new answer, the throughput and p99 until then, and while the full rebuild that
  follows an update runs in its low-priority thread (until `/readyz` says `build: full`);
- **full** (before, `--no-full` skips it): the same kind of edit with the update turned
  off, so the reload is a full rebuild: time until the new answer and the load meanwhile;
- **broken**: the edited file made invalid YAML: the error shows in `/readyz` and the
  last good answer keeps being served.

    PYTHONPATH=. .venv/bin/python benchmarks/kb_reload.py [--seconds 15] [--concurrency 16]
                                                         [--no-full] [--datasets DIR]

Prints one JSON object. Traffic stays on 127.0.0.1; every phase is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.api_throughput import serve  # noqa: E402
from benchmarks.kb_quality import DEFAULT_DATASETS, load_clinc  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.bot.kb_service import KnowledgeService  # noqa: E402
from gateway.config.settings import Settings  # noqa: E402

HEADERS = {"Authorization": "Bearer bench-key"}
#: Article whose file each phase edits, and the question it learns.
EDITED = "book-flight"
#: Give up on a phase's reload after this long (a full rebuild under load takes minutes).
PATIENCE = 240.0


def write_kb(root: Path, datasets: Path) -> tuple[int, int, list[str]]:
    """One YAML file per CLINC150 intent: (articles, questions, test questions)."""
    data = load_clinc(datasets)
    for intent, texts in sorted(data.train.items()):
        article_id = intent.replace("_", "-")
        write_article(root, article_id, texts, f"About {intent}.")
    return len(data.train), sum(map(len, data.train.values())), [t for t, _ in data.test]


def write_article(root: Path, article_id: str, questions: list[str], answer: str) -> None:
    document = {"id": article_id, "category": "information", "translations": {"en": {
        "title": questions[0], "questions": questions, "answer": answer}}}
    path = root / f"{article_id}.yaml"
    temporary = path.with_suffix(".tmp")  # atomic, as an editor's save should be
    temporary.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    temporary.replace(path)


class Load:
    """`concurrency` clients asking in a loop; latencies are kept with their end time."""

    def __init__(self, url: str, questions: list[str], concurrency: int) -> None:
        self.url, self.questions, self.concurrency = url, questions, concurrency
        self.done: list[tuple[float, float]] = []  # (end time, latency s)
        self.errors = 0
        self._stop = asyncio.Event()
        self._sent = 0

    async def run(self, session: aiohttp.ClientSession) -> None:
        await asyncio.gather(*(self._client(session) for _ in range(self.concurrency)))

    def stop(self) -> None:
        self._stop.set()

    async def _client(self, session: aiohttp.ClientSession) -> None:
        while not self._stop.is_set():
            n = self._sent = self._sent + 1
            body = {"customer": {"id": f"load-{n % 200}"},
                    "text": self.questions[n % len(self.questions)], "message_id": f"load-{n}"}
            started = time.perf_counter()
            try:
                async with session.post(f"{self.url}/api/v1/messages", json=body,
                                        headers=HEADERS) as response:
                    await response.read()
                    ok = response.status == 201
            except aiohttp.ClientError:
                ok = False
            end = time.perf_counter()
            if ok:
                self.done.append((end, end - started))
            else:
                self.errors += 1

    def between(self, start: float, end: float) -> dict[str, Any]:
        """Messages per second, p50 and p99 of the answers that ended in [start, end)."""
        latencies = sorted(lat for t, lat in self.done if start <= t < end)
        seconds = max(end - start, 1e-9)
        if not latencies:
            return {"seconds": round(seconds, 2), "messages": 0, "per_second": 0.0}
        return {"seconds": round(seconds, 2), "messages": len(latencies),
                "per_second": round(len(latencies) / seconds, 1),
                "p50_ms": round(statistics.median(latencies) * 1000, 1),
                "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, 1)}


def question(marker: str) -> str:
    """The question an edit adds to the article (and only it has)."""
    return f"can you book me a {marker} flight to tromso"


async def ask(session: aiohttp.ClientSession, url: str, text: str, n: int) -> dict[str, Any]:
    body = {"customer": {"id": f"probe-{n}"}, "text": text, "message_id": f"probe-{n}"}
    async with session.post(f"{url}/api/v1/messages", json=body, headers=HEADERS) as response:
        reply: dict[str, Any] = (await response.json())["replies"][0]
        return reply


async def until(check: Callable[[], Awaitable[bool]], patience: float = PATIENCE) -> float:
    """Seconds until `check` holds (asked every 50 ms); raises after `patience`."""
    started = time.perf_counter()
    async with asyncio.timeout(patience):
        while not await check():
            await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def readyz(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(f"{url}/readyz") as response:
        body: dict[str, Any] = (await response.json())["checks"]["knowledge_base"]
        return body


async def edit_and_wait(session: aiohttp.ClientSession, url: str, root: Path, load: Load,
                        original: list[str], marker: str) -> dict[str, Any]:
    """Edit the article's file under load; time until the new answer is served, and the
    load until then and until the full rebuild (if any) is in."""
    asked = question(marker)
    probes = iter(range(10**9))

    async def served() -> bool:
        reply = await ask(session, url, asked, next(probes))
        return reply.get("article_id") == EDITED and marker in (reply.get("text") or "")

    if await served():
        raise RuntimeError("the new answer is served before the edit")
    edited_at = time.perf_counter()
    write_article(root, EDITED, [*original, asked], f"About book_flight: {marker}.")
    served_after = await until(served)
    served_at = edited_at + served_after
    kb = await readyz(session, url)
    result: dict[str, Any] = {"new_answer_served_after_s": round(served_after, 2),
                              "build": kb["build"], "build_seconds": kb["build_seconds"],
                              "until_served": load.between(edited_at, served_at)}

    async def rebuilt() -> bool:
        return (await readyz(session, url))["build"] == "full"

    if kb["build"] != "full":
        try:
            rebuild = await until(rebuilt)
        except TimeoutError:  # starved by other work on the machine: say so, go on
            result["full_rebuild_after_s"] = None
            result["during_full_rebuild"] = load.between(served_at, time.perf_counter())
            return result
        result["full_rebuild_after_s"] = round(served_after + rebuild, 2)
        result["during_full_rebuild"] = load.between(served_at, served_at + rebuild)
        result["new_answer_after_full_rebuild"] = await served()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-full", action="store_true", help="skip the full-rebuild phase")
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    args = parser.parse_args()
    from gateway import logs

    logs.configure("error")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "kb"
        root.mkdir()
        articles, questions, tests = write_kb(root, args.datasets)
        original = load_clinc(args.datasets).train["book_flight"]
        settings = Settings.model_validate({
            "database": {"url": f"sqlite:{tmp}/bench.db"},
            "api": {"integrations": {"bench": {"key": "bench-key"}}},
            "knowledge_base": {"path": str(root), "reload_interval": 0.2},
            "logging": {"level": "error"},
        })
        started = time.perf_counter()
        runner, url = await serve(create_app(settings))
        results: dict[str, Any] = {
            "kb": {"articles": articles, "questions": questions,
                   "first_build_s": round(time.perf_counter() - started, 1)},
            "concurrency": args.concurrency}
        async with aiohttp.ClientSession() as session:
            load = Load(url, tests, args.concurrency)
            task = asyncio.create_task(load.run(session))
            try:
                await asyncio.sleep(3)  # warm-up
                start = time.perf_counter()
                await asyncio.sleep(args.seconds)
                results["steady"] = load.between(start, time.perf_counter())
                results["update"] = await edit_and_wait(session, url, root, load, original,
                                                        "zeppelin")
                if not args.no_full:
                    real_read = KnowledgeService._read

                    def full_read(self: KnowledgeService, update: bool) -> Any:
                        return real_read(self, False)  # the reload as it was: a full build

                    KnowledgeService._read = full_read  # type: ignore[method-assign]
                    try:
                        results["full"] = await edit_and_wait(session, url, root, load,
                                                              original, "airship")
                    finally:
                        KnowledgeService._read = real_read  # type: ignore[method-assign]
                marker = "zeppelin" if args.no_full else "airship"
                results["broken"] = await broken(session, url, root, question(marker))
                start = time.perf_counter()
                await asyncio.sleep(args.seconds)
                results["steady_after"] = load.between(start, time.perf_counter())
            finally:
                load.stop()
                with contextlib.suppress(Exception):
                    await task
            results["errors"] = load.errors
        await runner.cleanup()
    steady = results["steady"]
    for phase in ("update", "full"):
        for window in ("until_served", "during_full_rebuild"):
            figures = results.get(phase, {}).get(window)
            if figures and figures.get("messages"):
                figures["throughput_vs_steady"] = round(
                    figures["per_second"] / steady["per_second"], 2)
                figures["p99_vs_steady"] = round(figures["p99_ms"] / steady["p99_ms"], 1)
    print(json.dumps(results))


async def broken(session: aiohttp.ClientSession, url: str, root: Path,
                 asked: str) -> dict[str, Any]:
    """The edited file made invalid: its error shows and its last good answer stays."""
    path = root / f"{EDITED}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  - [unclosed\n", encoding="utf-8")

    async def error_shown() -> bool:
        return any(path.name in e for e in (await readyz(session, url))["errors"])

    shown_after = await until(error_shown, 30)
    reply = await ask(session, url, asked, -1)
    return {"error_shown_after_s": round(shown_after, 2),
            "last_good_answer_served": reply.get("article_id") == EDITED}


if __name__ == "__main__":
    asyncio.run(main())
