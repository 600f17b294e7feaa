"""Web chat under load: N visitors on real WebSockets to a gateway process, against a bare
aiohttp WebSocket echo process measured in the same run as the baseline.

    .venv/bin/python benchmarks/webchat_load.py [--visitors 500] [--seconds 60] [--burst 5]
        [--database sqlite|postgresql://…]
    .venv/bin/python benchmarks/webchat_load.py --visitors 20 --seconds 5   # a quick look

Two phases against each server, one after the other:
- steady: every visitor sends a question every 5 to 15 s (uniformly random, first one at a
  random moment of the first interval) for `--seconds`; reply time is from the send to the
  bot's answer on the socket. Then the replies still due are awaited (at most 30 s).
- burst: every visitor sends `--burst` messages at once. A message's first feedback is its
  ack or a "busy, retrying" frame; the visitor resends a busy one after the frame's
  `retry_after` (2 s without one), as the widget does. Reported: how many visitors had
  feedback on all their messages within 1 s, an ack within 1 s, all acks within 1 s, busy
  frames, acks saying "queued", and replies per second until the last reply.

Each visitor comes from its own address (X-Forwarded-For, the gateway set to trust it), so
the per-address limits stay as shipped while the per-session ones apply as to real people.
The echo answers `hello` with `welcome` and each message with an ack and a "bot" frame
carrying its text: the cost of the sockets and the JSON alone. Prints one JSON object;
traffic stays on 127.0.0.1, every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
#: Questions the demo knowledge base answers in one reply.
QUESTIONS = (
    "How long does delivery take?", "Hoe lang duurt de levering?",
    "Combien de temps prend la livraison ?", "What are your opening hours?",
    "Mein Akku lädt nicht mehr", "Is delivery free?", "Do you have a warranty?",
)
#: connectors/webchat/widget/connection.js: a refused message is resent after the busy
#: frame's `retry_after`, or this long (a rate limit, a gateway without `retry_after`).
WIDGET_RESEND_S = 2.0
REPLY_WAIT_S = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_echo(port: int) -> None:
    """The baseline server: WebSocket frames answered at once, nothing stored."""

    async def chat(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            if frame.get("type") == "hello":
                await ws.send_json({"type": "welcome", "session": "echo"})
            elif frame.get("type") == "message":
                await ws.send_json({"type": "ack", "client_id": frame["client_id"]})
                await ws.send_json({"type": "message", "author": "bot", "kind": "answer",
                                    "text": frame["text"]})
        return ws

    app = web.Application()
    app.router.add_get("/chat/ws", chat)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


@dataclass
class Sent:
    client_id: str
    text: str
    first_at: float
    feedback_at: float | None = None  # first ack or busy frame
    acked_at: float | None = None


@dataclass
class Phase:
    """What one phase saw, over all visitors."""

    name: str
    sent: int = 0
    ack_ms: list[float] = field(default_factory=list)
    feedback_ms: list[float] = field(default_factory=list)
    reply_ms: list[float] = field(default_factory=list)
    busy: int = 0
    answers_before_ack: int = 0
    slowed: int = 0
    queued: int = 0  # acks saying the message waits in the decision queue
    errors: Counter[str] = field(default_factory=Counter)
    last_reply_at: float = 0.0

    def report(self, started: float) -> dict[str, Any]:
        replies = len(self.reply_ms)
        span = max(self.last_reply_at - started, 1e-9)
        return {
            "messages": self.sent, "replies": replies,
            "unanswered": self.sent - replies, "errors": dict(self.errors),
            "error_count": sum(self.errors.values()) + self.sent - replies,
            "busy_frames": self.busy, "slow_down_frames": self.slowed,
            "acks_queued": self.queued,
            "answers_before_ack": self.answers_before_ack,
            "ack_ms": _percentiles(self.ack_ms), "reply_ms": _percentiles(self.reply_ms),
            "feedback_ms": _percentiles(self.feedback_ms),
            "replies_per_second_until_last": round(replies / span, 1) if replies else 0.0,
        }


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 1),
            "p99": round(ordered[max(0, int(len(ordered) * 0.99) - 1)], 1),
            "max": round(ordered[-1], 1)}


class Visitor:
    """One chat socket: sends questions, reads acks, busy frames and answers."""

    def __init__(self, number: int, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.number = number
        self.ws = ws
        self.waiting: deque[tuple[Sent, Phase]] = deque()  # in send order, not yet answered
        self.by_client_id: dict[str, tuple[Sent, Phase]] = {}
        self.sent = 0
        self.resends: set[asyncio.Task[None]] = set()

    async def send(self, phase: Phase) -> Sent:
        self.sent += 1
        item = Sent(f"v{self.number}-{self.sent}", QUESTIONS[(self.number + self.sent)
                                                              % len(QUESTIONS)],
                    time.perf_counter())
        self.waiting.append((item, phase))
        self.by_client_id[item.client_id] = (item, phase)
        phase.sent += 1
        await self._transmit(item, phase)
        return item

    async def _transmit(self, item: Sent, phase: Phase) -> None:
        try:
            await self.ws.send_json({"type": "message", "client_id": item.client_id,
                                     "text": item.text})
        except (ConnectionError, RuntimeError) as exc:
            phase.errors[f"send: {type(exc).__name__}"] += 1

    async def _resend_later(self, item: Sent, phase: Phase, after: float) -> None:
        await asyncio.sleep(after)
        await self._transmit(item, phase)

    async def read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            self._frame(json.loads(message.data), time.perf_counter())

    def _frame(self, frame: dict[str, Any], now: float) -> None:
        kind = frame.get("type")
        known = self.by_client_id.get(str(frame.get("client_id")))
        if kind == "ack" and known:
            item, phase = known
            if item.acked_at is None:
                item.acked_at = now
                phase.ack_ms.append((now - item.first_at) * 1000)
                phase.queued += bool(frame.get("queued"))
            self._feedback(item, phase, now)
        elif kind == "error" and known:
            item, phase = known
            self._feedback(item, phase, now)
            if frame.get("busy"):
                phase.busy += 1
            elif frame.get("retry"):
                phase.slowed += 1  # a session or address limit: the widget resends too
            else:
                phase.errors[f"error frame: {frame.get('error')}"] += 1
                return
            # As the widget: after the busy frame's retry_after, else WIDGET_RESEND_S.
            after = frame.get("retry_after")
            task = asyncio.create_task(self._resend_later(
                item, phase, float(after) if isinstance(after, int | float) else WIDGET_RESEND_S))
            self.resends.add(task)
            task.add_done_callback(self.resends.discard)
        elif kind == "message" and frame.get("author") not in ("customer", None):
            if not self.waiting:
                return  # a greeting or an operator's message: no question of ours waits
            # The answer of the oldest stored question (a busy one resent is stored after
            # later ones); the outbox may also push an answer before its ack arrives.
            item, phase = next((w for w in self.waiting if w[0].acked_at is not None),
                               self.waiting[0])
            self.waiting.remove((item, phase))
            phase.reply_ms.append((now - item.first_at) * 1000)
            phase.last_reply_at = now
            if item.acked_at is None:
                phase.answers_before_ack += 1

    @staticmethod
    def _feedback(item: Sent, phase: Phase, now: float) -> None:
        if item.feedback_at is None:
            item.feedback_at = now
            phase.feedback_ms.append((now - item.first_at) * 1000)


def _address(number: int) -> str:
    return f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"


async def connect_all(session: aiohttp.ClientSession, url: str, visitors: int,
                      errors: Counter[str]) -> list[Visitor]:
    gate = asyncio.Semaphore(50)

    async def one(number: int) -> Visitor | None:
        async with gate:
            try:
                ws = await session.ws_connect(url, headers={"X-Forwarded-For": _address(number)},
                                              heartbeat=30, timeout=aiohttp.ClientWSTimeout(
                                                  ws_receive=None, ws_close=10))
                await ws.send_json({"type": "hello", "session": None, "after": 0})
                async with asyncio.timeout(30):
                    while True:
                        frame = await ws.receive_json()
                        if frame.get("type") == "welcome":
                            return Visitor(number, ws)
                        if frame.get("type") == "error":
                            raise RuntimeError(frame.get("error"))
            except (aiohttp.ClientError, RuntimeError, TimeoutError, TypeError) as exc:
                errors[f"connect: {type(exc).__name__}"] += 1
                return None

    connected = await asyncio.gather(*(one(n) for n in range(visitors)))
    return [v for v in connected if v is not None]


async def _await_replies(visitors: list[Visitor], limit_s: float) -> None:
    deadline = time.perf_counter() + limit_s
    while any(v.waiting for v in visitors) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)


async def steady(visitors: list[Visitor], seconds: float, low: float, high: float,
                 pick: random.Random) -> dict[str, Any]:
    phase = Phase("steady")
    started = time.perf_counter()
    stop = started + seconds

    async def talk(visitor: Visitor) -> None:
        moment = started + pick.uniform(0, high)
        while moment < stop:
            await asyncio.sleep(max(0.0, moment - time.perf_counter()))
            await visitor.send(phase)
            moment += pick.uniform(low, high)

    await asyncio.gather(*(talk(v) for v in visitors))
    await _await_replies(visitors, REPLY_WAIT_S)
    return phase.report(started)


async def burst(visitors: list[Visitor], messages: int) -> dict[str, Any]:
    phase = Phase("burst")
    started = time.perf_counter()
    sent = await asyncio.gather(*(v.send(phase) for v in visitors for _ in range(messages)))
    await _await_replies(visitors, 4 * REPLY_WAIT_S)
    report = phase.report(started)
    per_visitor: dict[str, list[Sent]] = {}
    for item in sent:
        per_visitor.setdefault(item.client_id.split("-")[0], []).append(item)
    report["visitors_with_feedback_within_1s"] = sum(
        all(i.feedback_at is not None and i.feedback_at - i.first_at <= 1.0 for i in items)
        for items in per_visitor.values())
    report["visitors_with_an_ack_within_1s"] = sum(
        any(i.acked_at is not None and i.acked_at - i.first_at <= 1.0 for i in items)
        for items in per_visitor.values())
    report["visitors_acked_within_1s"] = sum(
        all(i.acked_at is not None and i.acked_at - i.first_at <= 1.0 for i in items)
        for items in per_visitor.values())
    report["visitors"] = len(per_visitor)
    return report


async def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    pick = random.Random(args.seed)
    errors: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        visitors = await connect_all(session, url, args.visitors, errors)
        connect_s = time.perf_counter() - started
        readers = [asyncio.create_task(v.read()) for v in visitors]
        try:
            result: dict[str, Any] = {
                "connected": len(visitors), "connect_seconds": round(connect_s, 2),
                "connect_errors": dict(errors),
                "steady": await steady(visitors, args.seconds, args.min_interval,
                                       args.max_interval, pick),
            }
            if args.burst:
                await asyncio.sleep(1.0)  # the steady phase's last replies are out
                result["burst"] = await burst(visitors, args.burst)
        finally:
            for visitor in visitors:
                with contextlib.suppress(Exception):
                    await visitor.ws.close()
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
    return result


@contextlib.contextmanager
def process(command: list[str], port: int, env: dict[str, str]) -> Iterator[str]:
    """Run a server process until it answers on `port`; stop it afterwards."""
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            if child.poll() is not None:
                raise RuntimeError(f"{command[1:4]} exited with {child.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[1:4]} did not listen on {port}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/chat/ws"
    finally:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _wait_ready(port: int) -> None:
    """The gateway listens before its KB is loaded: wait for /readyz."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(urllib.error.URLError, OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        time.sleep(0.3)
    raise RuntimeError("the gateway never became ready")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60.0, help="steady phase length")
    parser.add_argument("--min-interval", type=float, default=5.0)
    parser.add_argument("--max-interval", type=float, default=15.0)
    parser.add_argument("--burst", type=int, default=5,
                        help="messages each visitor sends at once after the steady phase"
                             " (0: no burst)")
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--serve-echo", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_echo:
        serve_echo(args.serve_echo)
        return 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env["PYTHONPATH"] = str(ROOT)
    report: dict[str, Any] = {
        "visitors": args.visitors, "seconds": args.seconds,
        "interval_s": [args.min_interval, args.max_interval], "burst": args.burst,
        "database": args.database.split("@")[-1], "cpus": os.cpu_count(),
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
    }
    port = _free_port()
    with process([sys.executable, str(Path(__file__).resolve()), "--serve-echo", str(port)],
                 port, env) as url:
        report["echo"] = asyncio.run(measure(url, args))
    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:{tmp}/chat.db" if args.database == "sqlite" else args.database
        port = _free_port()
        config = Path(tmp) / "gateway.toml"
        config.write_text(
            f'[server]\nport = {port}\n[database]\nurl = "{database}"\n'
            f'[knowledge_base]\npath = "{ROOT / "config" / "kb"}"\n'
            f'[templates]\npath = "{ROOT / "config" / "templates"}"\n'
            '[logging]\nlevel = "error"\n[webchat]\ntrust_forwarded_for = true\n',
            encoding="utf-8")
        with process([sys.executable, "-m", "gateway.cli", "run", "--config", str(config)],
                     port, env) as url:
            _wait_ready(port)
            report["gateway"] = asyncio.run(measure(url, args))
    report["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    steady_echo, steady_gateway = report["echo"]["steady"], report["gateway"]["steady"]
    if steady_echo["reply_ms"]["p50"] and steady_gateway["reply_ms"]["p50"]:
        report["steady_reply_p50_vs_echo"] = round(
            steady_gateway["reply_ms"]["p50"] / steady_echo["reply_ms"]["p50"], 1)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
