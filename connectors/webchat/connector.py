"""Web chat connector and its routes (see the package docstring for the protocol)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import time
from pathlib import Path
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from connectors.base import ACTIONS, ConversationKey, Identity, Inbound, NothingToRun, Outbound
from gateway.errors import StoreError
from gateway.keys import CONNECTORS, HUB, PIPELINE, SETTINGS, STORE
from gateway.markdown import to_safe_html
from gateway.models import Message
from gateway.notify import Hub

log = structlog.get_logger(__name__)

CHANNEL = "webchat"
STATIC = Path(__file__).parent / "static"
#: A chat message is a few lines of text; anything bigger is refused by the socket itself.
MAX_FRAME_BYTES = 64 * 1024
MAX_TEXT_CHARS = 4000
#: Token bucket per socket: bursts of RATE_BURST, refilled at RATE_PER_SECOND.
RATE_BURST = 8
RATE_PER_SECOND = 1.0


def address_of(session: str) -> str:
    """The conversation address is a hash of the session secret, never the secret itself."""
    return hashlib.sha256(session.encode()).hexdigest()[:40]


def frame_of(message: Message) -> dict[str, Any]:
    """A stored message as the widget shows it (replayed history)."""
    return _frame(message.id, message.author, message.kind or "", message.text, message.meta,
                  message.created_at.isoformat())


def _frame(message_id: int, author: str, kind: str, text: str, meta: dict[str, Any],
           created_at: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "message", "id": message_id, "author": author,
                             "kind": kind, "text": text, "created_at": created_at}
    if author != "customer":
        frame["html"] = to_safe_html(text)
    if author == "operator":
        frame["operator"] = meta.get("operator", "")
    titles = meta.get("titles")
    if kind == "clarify" and titles:
        frame["choices"] = [*titles, meta.get("none_label", "")]
    if kind == "answer":
        frame["feedback"] = True
    return frame


class WebChatConnector(NothingToRun):
    channel = CHANNEL

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def send(self, outbound: Outbound) -> dict[str, Any] | None:
        """Push to the customer's open tabs; a closed tab catches up from the store later."""
        frame = _frame(outbound.message_id, outbound.author, outbound.kind, outbound.text,
                       outbound.meta)
        live = self.hub.publish(f"{CHANNEL}:{outbound.key.address}", frame)
        return {"live_sockets": live}


class _RateLimit:
    def __init__(self) -> None:
        self.tokens = float(RATE_BURST)
        self.stamp = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(RATE_BURST, self.tokens + (now - self.stamp) * RATE_PER_SECOND)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _origin_allowed(request: web.Request) -> bool:
    """Browsers always send Origin on WebSockets: same host, or one of `chat_origins`."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser (CLI clients, tests); the session secret still applies
    allowed = request.app[SETTINGS].server.chat_origins
    if allowed:
        return origin in allowed
    return origin.split("://", 1)[-1] == request.host


class _ChatSession:
    """One open socket: hello, then messages in; pushes replies out."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.request = request
        self.ws = ws
        self.app = request.app
        self.session: str | None = None
        self.name = ""
        self.rate = _RateLimit()

    async def run(self) -> None:
        queue: asyncio.Queue[dict[str, Any]] | None = None
        pusher: asyncio.Task[None] | None = None
        try:
            async for frame in self.ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                try:
                    data = frame.json()
                except ValueError:
                    await self.ws.send_json({"type": "error", "error": "frames must be JSON"})
                    continue
                if not isinstance(data, dict):
                    continue
                if data.get("type") == "hello" and self.session is None:
                    await self._hello(data)
                    assert self.session is not None
                    queue = self.app[HUB].subscribe(f"{CHANNEL}:{address_of(self.session)}")
                    pusher = asyncio.create_task(self._push(queue))
                elif data.get("type") == "message" and self.session is not None:
                    await self._message(data)
                else:
                    await self.ws.send_json({"type": "error", "error": "say hello first"})
        finally:
            if pusher is not None:
                pusher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pusher
            if queue is not None and self.session is not None:
                self.app[HUB].unsubscribe(f"{CHANNEL}:{address_of(self.session)}", queue)

    async def _push(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            frame = await queue.get()
            await self.ws.send_json(frame)

    async def _hello(self, data: dict[str, Any]) -> None:
        session = data.get("session")
        if not isinstance(session, str) or not 20 <= len(session) <= 100:
            session = secrets.token_urlsafe(24)
        self.session = session
        self.name = str(data.get("name") or "")[:100]
        store = self.app[STORE]
        conversation_id = None
        history: list[Message] = []
        try:
            found = await store.conversation_at(ConversationKey(CHANNEL, address_of(session)))
            if found is not None:
                conversation_id = found.id
                after = data.get("after")
                history = await store.messages(conversation_id,
                                               after_id=after if isinstance(after, int) else 0)
        except StoreError as exc:
            log.error("webchat.history_unavailable", error=str(exc))
        welcome: dict[str, Any] = {"type": "welcome", "session": session,
                                   "conversation_id": conversation_id}
        if conversation_id is None:  # a first visit: the organisation's greeting
            settings = self.app[SETTINGS]
            language = str(data.get("lang") or "")[:2].lower()
            if language not in settings.languages.supported:
                language = settings.languages.default
            welcome["greeting"] = self.app[PIPELINE].texts("greeting", language,
                                                           company=settings.company.name)
        await self.ws.send_json(welcome)
        for message in history:
            await self.ws.send_json(frame_of(message))

    async def _message(self, data: dict[str, Any]) -> None:
        client_id = str(data.get("client_id") or "")[:64]
        text = str(data.get("text") or "").strip()
        if not client_id or not text:
            await self.ws.send_json({"type": "error", "client_id": client_id,
                                     "error": "client_id and text are required"})
            return
        if len(text) > MAX_TEXT_CHARS:
            await self.ws.send_json({"type": "error", "client_id": client_id,
                                     "error": f"messages are limited to {MAX_TEXT_CHARS} chars"})
            return
        if not self.rate.allow():
            await self.ws.send_json({"type": "error", "client_id": client_id, "retry": True,
                                     "error": "too many messages, slow down"})
            return
        assert self.session is not None
        address = address_of(self.session)
        language = data.get("language") if isinstance(data.get("language"), str) else None
        action = data.get("action") if data.get("action") in ACTIONS else None
        inbound = Inbound(
            key=ConversationKey(CHANNEL, address),
            sender=Identity(CHANNEL, address, name=self.name),
            text=text, channel_message_id=f"{address}:{client_id}", language=language,
            meta={"action": action} if action else {},
        )
        try:
            outcome = await self.app[PIPELINE].handle(inbound)
        except StoreError as exc:
            log.error("webchat.store_unavailable", error=str(exc))
            await self.ws.send_json({"type": "error", "client_id": client_id, "retry": True,
                                     "error": "temporarily unavailable, resending shortly"})
            return
        await self.ws.send_json({"type": "ack", "client_id": client_id,
                                 "message_id": outcome.message_id,
                                 "conversation_id": outcome.conversation_id})
        if outcome.duplicate:
            for reply in outcome.replies:
                await self.ws.send_json(frame_of(reply))


async def chat_socket(request: web.Request) -> web.StreamResponse:
    if not _origin_allowed(request):
        raise web.HTTPForbidden(text="origin not allowed")
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=30)
    await ws.prepare(request)
    await _ChatSession(request, ws).run()
    return ws


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


def setup(app: web.Application) -> None:
    app[CONNECTORS][CHANNEL] = WebChatConnector(app[HUB])
    app.router.add_get("/", index)
    app.router.add_get("/chat/ws", chat_socket)
    app.router.add_static("/chat/static/", STATIC, name="chat-static")
