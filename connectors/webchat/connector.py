"""Web chat connector and its routes (see the package docstring for the protocol)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from connectors.webchat import assets, frames, identity, render
from connectors.webchat import files as chat_files
from connectors.webchat.decisions import Decisions
from connectors.webchat.follow_up import MAIL_KINDS, FollowUps
from connectors.webchat.intake import Intake
from connectors.webchat.limits import ChatLimits
from connectors.webchat.presence import hours_line
from connectors.webchat.render import frame_of
from connectors.webchat.sessions import (
    CHANNEL,
    LIMITS,
    address_of,
    origin_allowed,
    resumable,
)
from connectors.webchat.theme import theme
from connectors.webchat.upload import upload
from gateway.addresses import valid_address
from gateway.background import stop_task
from gateway.channels import Outbound
from gateway.console import STATIC as CONSOLE_STATIC
from gateway.delivery.notify import live_topic
from gateway.errors import StoreError
from gateway.keys import CONNECTORS, HUB, PIPELINE, SETTINGS, STORE
from gateway.models import Conversation, Message, utcnow
from gateway.signed_links import LinkInvalid
from gateway.store.attachments import AttachmentMeta, attachments_of

log = structlog.get_logger(__name__)

STATIC = Path(__file__).parent / "static"
#: A chat message is a few lines of text; anything bigger is refused by the socket itself.
MAX_FRAME_BYTES = 64 * 1024


class WebChatConnector:
    channel = CHANNEL
    sends_files = True  # an operator's files: listed in the reply, downloaded (files.py)
    push_after_commit = True  # a bot reply is sent as its decision commits (deliver_now)

    def __init__(self, app: web.Application) -> None:
        self.hub = app[HUB]
        self.follow_ups = FollowUps(app)
        #: Stored chat messages waiting for their decision (decisions.py).
        self.decisions = Decisions(lambda: app[PIPELINE])
        self._sweep: contextlib.AbstractAsyncContextManager[None] | None = None

    async def start(self) -> None:
        self._sweep = self.follow_ups.running()
        await self._sweep.__aenter__()

    async def stop(self) -> None:
        await self.decisions.stop()
        if self._sweep is not None:
            await self._sweep.__aexit__(None, None, None)
            self._sweep = None

    async def send(self, outbound: Outbound) -> dict[str, Any] | None:
        """Push to the customer's open tabs; a closed tab catches up from the store later.
        An operator's reply is mailed later to a customer who left an address and does not
        see it by then (follow_up.py)."""
        if outbound.author == "operator":
            await self.follow_ups.replied(outbound.conversation_id, outbound.message_id)
        frame = render.frame(outbound.message_id, outbound.author, outbound.kind,
                             outbound.text, outbound.meta,
                             render.iso(outbound.meta.get("created_at")))
        live = self.hub.publish(live_topic(CHANNEL, outbound.key.address), frame)
        return {"live_sockets": live}


class ChatSession:
    """One open socket: hello, then messages in; pushes replies out."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.request = request
        self.ws = ws
        self.app = request.app
        self.limits = request.app[LIMITS]
        self.source = self.limits.source(request)
        self.session: str | None = None
        #: The conversation's address: the session's own, or the one a link joined it to.
        self.address = ""
        self.conversation_id: int | None = None
        self._seen = 0
        self._seen_at = 0.0
        self.name = ""
        self.language: str | None = None
        #: The customer id the embedding site signed (identity.py), once accepted; and
        #: whether this socket's conversation was marked verified with it yet.
        self.verified: str | None = None
        self.marked = False
        self.intake = Intake(self)

    async def run(self) -> None:
        queue: asyncio.Queue[dict[str, Any]] | None = None
        pusher: asyncio.Task[None] | None = None
        try:
            async for frame in self.ws:
                if frame.type != WSMsgType.TEXT:
                    await self.ws.send_json(frames.error("frames must be JSON text"))
                    continue
                try:
                    data = frames.parse(frame.data)
                except frames.FrameError as exc:
                    await self.ws.send_json(frames.error(str(exc), exc.client_id))
                    continue
                if isinstance(data, frames.Hello):
                    if self.session is not None:
                        await self.ws.send_json(frames.error("hello was already said"))
                    elif await self._hello(data):
                        queue = self.app[HUB].subscribe(live_topic(CHANNEL, self.address))
                        pusher = asyncio.create_task(self._push(queue))
                    else:
                        break
                elif self.session is None:
                    await self.ws.send_json(frames.error(
                        "say hello first", getattr(data, "client_id", "")))
                elif isinstance(data, frames.ChatMessage):
                    await self.intake.take(data)
                elif isinstance(data, frames.Contact):
                    await self._contact(data)
                elif isinstance(data, frames.Transcript):
                    sent = self.conversation_id is not None and \
                        await self.follow_ups.transcript(self.conversation_id)
                    await self.ws.send_json({"type": "transcript", "sent": sent})
                else:
                    await self._seen_upto(data.upto)
        finally:
            await self.intake.stop()
            if pusher is not None:
                await stop_task(pusher)
            if queue is not None:
                self.app[HUB].unsubscribe(live_topic(CHANNEL, self.address), queue)

    async def _push(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            frame = await queue.get()
            await self.ws.send_json(frame)

    async def _hello(self, data: frames.Hello) -> bool:
        """Welcome the visitor; False when they may not open another session yet."""
        self.name = data.name
        settings = self.app[SETTINGS]
        language = data.lang[:2].lower()
        self.language = language if language in settings.languages.supported else None
        conversation: Conversation | None = None
        if data.identity is not None:
            refused = identity.refusal(settings.webchat.identity_secret, data.identity.id,
                                       data.identity.hash)
            if refused:  # said to the page, trusted for nothing: the chat stays anonymous
                log.warning("webchat.identity_refused")  # no id: personal data
                self.name = ""
                await self.ws.send_json(frames.error(refused))
            else:
                self.verified = data.identity.id
        try:
            resumed = (await self._continued(data.resume) if data.resume else None) \
                or await resumable(self.app, data.session)
        except StoreError as exc:
            log.error("webchat.history_unavailable", error=str(exc))
            await self.ws.send_json(frames.error("temporarily unavailable", retry=True))
            return False
        if isinstance(resumed, Conversation) and self.verified is not None and \
                resumed.verified_number != self.verified:
            resumed = False  # another customer's (or an anonymous) chat: this one starts anew
        if resumed is False:
            token = self.limits.new_session(self.source)
            if token is None:
                log.warning("webchat.session_limit")  # no address: personal data
                await self.ws.send_json(frames.error(
                    "too many new conversations from your address, try again in a minute",
                    retry=True))
                return False
            self.session = token
        elif isinstance(resumed, tuple):  # a follow-up link, on a session of its own
            self.session, conversation = resumed
        else:
            assert data.session is not None
            self.session = data.session
            conversation = resumed if isinstance(resumed, Conversation) else None
        self.address = conversation.address if conversation else address_of(self.session)
        self.conversation_id = conversation.id if conversation else None
        history: list[Message] = []
        files: dict[int, list[AttachmentMeta]] = {}
        if conversation is not None:
            try:
                history = await self.app[STORE].messages(conversation.id, after_id=data.after)
                files = await attachments_of(self.app[STORE], [m.id for m in history
                                                               if m.author == "customer"])
            except StoreError as exc:
                log.error("webchat.history_unavailable", error=str(exc))
        welcome: dict[str, Any] = {"type": "welcome", "session": self.session,
                                   "conversation_id": conversation.id if conversation else None}
        texts = self.app[PIPELINE].texts
        language = self.language or settings.languages.default
        welcome["hours"] = hours_line(settings, texts, language, utcnow())
        title = settings.webchat.title
        if title:  # the organisation's title, in the visitor's language when it has one
            welcome["title"] = title.get(language) or title.get("en") or next(iter(title.values()))
        if conversation is None:  # a first visit: the organisation's greeting
            welcome["greeting"] = texts("greeting", language, company=settings.company.name)
        welcome["follow_up"] = await self._follow_up_state()
        await self.ws.send_json(welcome)
        for message in history:
            if message.kind not in MAIL_KINDS:  # mail about the chat: not a chat line
                await self.ws.send_json(frame_of(message, files.get(message.id, ())))
        return True

    @property
    def connector(self) -> WebChatConnector:
        connector = self.app[CONNECTORS][CHANNEL]
        assert isinstance(connector, WebChatConnector)
        return connector

    @property
    def follow_ups(self) -> FollowUps:
        return self.connector.follow_ups

    async def _continued(self, token: str) -> tuple[str, Conversation] | None:
        """A follow-up link opened here: a new session joined to its conversation (None,
        and an error frame, for a link that is not genuine, expired or not this customer's)."""
        try:
            conversation = await self.app[STORE].get_conversation(
                await self.follow_ups.conversation_of(token))
        except LinkInvalid as exc:
            log.info("webchat.link_refused", reason=str(exc))
            await self.ws.send_json(frames.error(f"{exc}: a new conversation starts here"))
            return None
        if conversation is None or conversation.channel != CHANNEL or \
                (self.verified is not None and conversation.verified_number != self.verified):
            await self.ws.send_json(frames.error("the link's conversation cannot go on here"))
            return None
        session = self.limits.new_session(self.source)
        if session is None:
            return None  # over the cap: the hello goes on and is refused like any new one
        await self.app[STORE].link_chat_session(address_of(session), conversation.id)
        return session, conversation

    async def _follow_up_state(self) -> dict[str, Any]:
        """Whether the widget may offer the address form, and the address left (masked)."""
        if not self.follow_ups.available:
            return {"offered": False}
        left = (await self.app[STORE].follow_up_of(self.conversation_id)
                if self.conversation_id else None)
        return {"offered": True, "address": masked(left.email) if left else None}

    async def _contact(self, data: frames.Contact) -> None:
        email = data.email.strip()
        if self.conversation_id is None:
            await self.ws.send_json(frames.error("write your question first"))
        elif not self.follow_ups.available:
            await self.ws.send_json(frames.error("replies by e-mail are not offered here"))
        elif not valid_address(email):
            await self.ws.send_json({"type": "follow_up", "error": "invalid_address"})
        else:
            await self.app[STORE].set_follow_up_address(self.conversation_id, email.lower())
            await self.ws.send_json({"type": "follow_up", **await self._follow_up_state()})

    async def _seen_upto(self, upto: int) -> None:
        """At most one write a second, each a step forward: a flood of "seen" is not load."""
        now = time.monotonic()
        if self.conversation_id is None or upto <= self._seen or now - self._seen_at < 1.0:
            return
        self._seen, self._seen_at = upto, now
        await self.app[STORE].follow_up_seen(self.conversation_id, upto)


def masked(email: str) -> str:
    """a***@example.be: enough for the customer to recognise it, little for a shoulder."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


async def chat_socket(request: web.Request) -> web.StreamResponse:
    if not origin_allowed(request):
        raise web.HTTPForbidden(text="origin not allowed")
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=30)
    await ws.prepare(request)
    await ChatSession(request, ws).run()
    return ws


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def favicon(request: web.Request) -> web.FileResponse:
    """Browsers ask every site for /favicon.ico: the console's icon, not a 404 in the log."""
    response = web.FileResponse(CONSOLE_STATIC / "favicon.svg")
    response.content_type = "image/svg+xml"
    return response


def setup(app: web.Application) -> None:
    app[CONNECTORS][CHANNEL] = WebChatConnector(app)
    app[LIMITS] = ChatLimits(app[SETTINGS].webchat)
    app.router.add_get("/", index)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_get("/chat/ws", chat_socket)
    app.router.add_get("/chat/theme.css", theme)
    app.router.add_post("/chat/upload", upload)
    app.router.add_post(r"/chat/files/{attachment_id:\d+}", chat_files.download)
    assets.setup(app)  # widget.js, before the static files
    app.router.add_static("/chat/static/", STATIC, name="chat-static")
