"""Resident memory of the real gateway with the demo KB, against a bare aiohttp process
measured in the same run (issue 21: idle RSS with the demo KB at most 200 MB).

    PYTHONPATH=. .venv/bin/python benchmarks/memory.py [--messages 3] [--no-breakdown]
        [--detection accurate|light] [--languages en,fr,nl,de] [--semantic] [--multilingual]

- baseline: a bare python + aiohttp process serving one JSON endpoint, its RSS after start
  and after as many requests as the gateway gets messages;
- gateway: `python -m gateway.cli run --config …` on a temporary SQLite database and a free
  port with the demo KB (config/kb), its RSS once `/readyz` answers (idle), then after
  `--messages` customer messages in each of English, French, Dutch and German through the
  REST API (the language detector and the matcher have then both worked); peak RSS
  (VmHWM) too, which the KB build reaches while it trains;
- breakdown: a fresh process imports what the gateway imports in steps and records the RSS
  each step adds (import-time deltas: what a module costs is what it leaves resident),
  then builds the demo KB's matcher and loads the language models the same way, with
  tracemalloc's count of the Python and numpy allocations the matcher keeps.

Prints one JSON object. Linux only (reads /proc); traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "memory-bench-key-" + "x" * 24
#: Questions of the demo KB, per language (answers, a hand-off, an out-of-scope one).
MESSAGES = {
    "en": ["How long does delivery take?", "My battery does not charge anymore",
           "I want to talk to a person"],
    "fr": ["Combien de temps prend la livraison ?", "Ma batterie ne se recharge plus",
           "Quels sont vos horaires d'ouverture ?"],
    "nl": ["Hoe lang duurt de levering?", "Mijn batterij laadt niet meer op",
           "Wat zijn jullie openingsuren?"],
    "de": ["Wie lange dauert die Lieferung?", "Mein Akku lädt nicht mehr",
           "Wann haben Sie geöffnet?"],
}
SETTLE_S = 2.0
#: knowledge_base.trainer.IDLE_SECONDS, without importing the package here.
TRAINER_IDLE_S = 60.0


def rss_mb(pid: int | str = "self") -> dict[str, float]:
    """Resident (VmRSS) and peak resident (VmHWM) memory of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields["VmRSS"], "peak_mb": fields["VmHWM"]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_bare(port: int) -> None:
    """The baseline: python and aiohttp, one endpoint answering JSON."""
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"text": body.get("text")}, status=201)

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ready")

    app = web.Application()
    app.router.add_post("/api/v1/messages", handler)
    app.router.add_get("/readyz", ready)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


@contextlib.contextmanager
def process(command: list[str], port: int, env: dict[str, str]) -> Iterator[int]:
    """Run a server until its /readyz answers 200; its pid; stopped afterwards."""
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while True:
            if child.poll() is not None:
                raise RuntimeError(f"{command[1:4]} exited with {child.returncode}")
            with contextlib.suppress(urllib.error.URLError, OSError), urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[1:4]} never became ready on {port}")
            time.sleep(0.3)
        yield child.pid
    finally:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


async def send(port: int, per_language: int) -> dict[str, Any]:
    """`per_language` messages in each language, one after the other: replies by kind."""
    import aiohttp

    kinds: dict[str, dict[str, int]] = {}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with aiohttp.ClientSession() as session:
        for language, questions in MESSAGES.items():
            for n in range(per_language):
                body = {"customer": {"id": f"memory-{language}-{n}"},
                        "text": questions[n % len(questions)],
                        "message_id": f"memory-{language}-{n}"}
                async with session.post(f"http://127.0.0.1:{port}/api/v1/messages",
                                        json=body, headers=headers) as answer:
                    reply = await answer.json()
                    if answer.status != 201:
                        raise RuntimeError(f"HTTP {answer.status}: {reply}")
                for item in reply.get("replies") or [{}]:
                    kind = str(item.get("kind"))
                    kinds.setdefault(language, {})
                    kinds[language][kind] = kinds[language].get(kind, 0) + 1
    return kinds


def measure(command: list[str], port: int, env: dict[str, str],
            per_language: int) -> dict[str, Any]:
    with process(command, port, env) as pid:
        time.sleep(SETTLE_S)
        idle = rss_mb(pid)
        trainer = children_rss_mb(pid)
        replies = asyncio.run(send(port, per_language))
        time.sleep(SETTLE_S)
        after = rss_mb(pid)
        gone = _wait_for_no_children(pid, TRAINER_IDLE_S + 30)
    return {"idle_rss_mb": idle["rss_mb"], "after_messages_rss_mb": after["rss_mb"],
            "peak_rss_mb": after["peak_mb"], "replies": replies,
            # the KB trains in a child (knowledge_base.trainer) that exits when idle
            "children_rss_mb_at_idle": trainer,
            "children_gone_after_s": gone}


def children(pid: int) -> list[str]:
    """A process's children, started by any of its threads."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found.extend((task / "children").read_text().split())
    return found


def children_rss_mb(pid: int) -> float:
    """The RSS of a process's children (the gateway's: the KB training process)."""
    return round(sum(rss_mb(child)["rss_mb"] for child in children(pid)), 1)


def _wait_for_no_children(pid: int, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if not children(pid):
            return round(time.monotonic() - started, 1)
        time.sleep(1.0)
    return None


def gateway_config(tmp: Path, port: int, args: argparse.Namespace) -> Path:
    config = tmp / "gateway.toml"
    config.write_text("\n".join([
        "[server]", 'host = "127.0.0.1"', f"port = {port}",
        "[languages]", f"detection = {json.dumps(args.detection)}",
        f"supported = {json.dumps(args.languages.split(','))}",
        f"default = {json.dumps(args.languages.split(',')[0])}",
        "[database]", f"url = {json.dumps(f'sqlite:{tmp}/memory.db')}",
        "[knowledge_base]", f"path = {json.dumps(str(ROOT / 'config' / 'kb'))}",
        f"semantic = {json.dumps(args.semantic)}",
        f"multilingual = {json.dumps(args.multilingual)}",
        "[templates]", f"path = {json.dumps(str(ROOT / 'config' / 'templates'))}",
        "[api.integrations.bench]", f"key = {json.dumps(API_KEY)}",
        "[logging]", 'level = "error"',
        *(line for queue in ("general", "logistics", "sales", "billing")
          for line in ("[[queues]]", f"name = {json.dumps(queue)}")),
    ]) + "\n", encoding="utf-8")
    return config


#: Import steps of the breakdown, in the order the gateway meets them: each step's modules
#: are charged only what earlier steps did not already load.
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("aiohttp", ("aiohttp.web",)),
    ("pydantic, yaml, structlog, jinja2", ("pydantic", "yaml", "structlog", "jinja2")),
    ("numpy, scipy.sparse, rapidfuzz", ("numpy", "scipy.sparse", "rapidfuzz")),
    ("lingua (module)", ("lingua",)),
    ("knowledge_base (rest)", ("knowledge_base.index", "knowledge_base.files",
                               "knowledge_base.signals", "knowledge_base.clusters")),
    ("babel, dateparser, holidays", ("babel", "dateparser", "holidays")),
    ("slack_bolt, slack_sdk", ("slack_bolt", "slack_sdk")),
    ("asyncpg, aiosqlite, aiosmtplib, aioimaplib",
     ("asyncpg", "aiosqlite", "aiosmtplib", "aioimaplib")),
    ("gateway (rest: app, console, connectors)", ("gateway.cli", "gateway.app")),
)


def breakdown(detection: str) -> dict[str, Any]:
    """Run in a fresh process: RSS added by each import step, the matcher and the models."""
    import importlib
    import tracemalloc

    steps: list[dict[str, Any]] = [{"step": "python", "rss_mb": rss_mb()["rss_mb"]}]
    previous = steps[0]["rss_mb"]
    for name, modules in STEPS:
        for module in modules:
            with contextlib.suppress(ImportError):
                importlib.import_module(module)
        now = rss_mb()["rss_mb"]
        steps.append({"step": name, "added_mb": round(now - previous, 1)})
        previous = now
    from gateway.memory import release_freed_memory
    from knowledge_base import language
    from knowledge_base.files import load_directory
    from knowledge_base.index import Matcher, MatcherSettings

    tracemalloc.start()
    articles = load_directory(ROOT / "config" / "kb").articles
    matcher = Matcher.build(articles.values(), MatcherSettings())
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    release_freed_memory()  # as the gateway's KB service does after a build
    now = rss_mb()["rss_mb"]
    steps.append({"step": f"demo KB matcher built ({len(articles)} articles)",
                  "added_mb": round(now - previous, 1),
                  "traced_kept_mb": round(kept / 2**20, 1),
                  "traced_peak_mb": round(peak / 2**20, 1)})
    previous = now
    language.configure(("en", "fr", "nl", "de"), accurate=detection == "accurate")
    language.load_models()
    matcher.match("Hoe lang duurt de levering?")
    now = rss_mb()["rss_mb"]
    steps.append({"step": f"language models loaded ({detection})",
                  "added_mb": round(now - previous, 1)})
    return {"steps": steps, "total_rss_mb": now}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=3, help="messages per language")
    parser.add_argument("--no-breakdown", action="store_true")
    parser.add_argument("--detection", choices=("accurate", "light"), default="accurate",
                        help="[languages] detection of the gateway")
    parser.add_argument("--languages", default="en,fr,nl,de",
                        help="[languages] supported (the first is the default)")
    parser.add_argument("--semantic", action="store_true", help="the [semantic] extra")
    parser.add_argument("--multilingual", action="store_true", help="the [multilingual] extra")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--breakdown-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0
    if args.breakdown_only:
        print(json.dumps(breakdown(args.detection)))
        return 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env["PYTHONPATH"] = str(ROOT)
    report: dict[str, Any] = {"messages_per_language": args.messages,
                              "detection": args.detection, "languages": args.languages,
                              "semantic": args.semantic, "multilingual": args.multilingual,
                              "load_average_1m_at_start": round(os.getloadavg()[0], 2)}
    port = free_port()
    report["baseline"] = measure(
        [sys.executable, str(Path(__file__).resolve()), "--serve-bare", str(port)],
        port, env, args.messages)
    report["baseline"].pop("replies")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        config = gateway_config(Path(tmp), port, args)
        report["gateway"] = measure(
            [sys.executable, "-m", "gateway.cli", "run", "--config", str(config)],
            port, env, args.messages)
    base = report["baseline"]["idle_rss_mb"]
    report["gateway_idle_over_baseline_mb"] = round(report["gateway"]["idle_rss_mb"] - base, 1)
    if not args.no_breakdown:
        out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--breakdown-only",
                              "--detection", args.detection],
                             cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        report["breakdown"] = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
