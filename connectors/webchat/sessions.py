"""What the chat's socket and its upload share: the channel's name, how a session secret
becomes a conversation address, which sessions and origins are accepted, and the message a
customer's text or file becomes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from connectors.webchat.identity import PREFIX
from connectors.webchat.limits import ChatLimits
from gateway.channels import ConversationKey, Identity, Inbound, InboundAttachment
from gateway.keys import SETTINGS, STORE
from gateway.models import Conversation

CHANNEL = "webchat"
#: The process's chat limits (per address, per session), shared by its sockets.
LIMITS: web.AppKey[ChatLimits] = web.AppKey("webchat_limits", ChatLimits)


def address_of(session: str) -> str:
    """The conversation address is a hash of the session secret, never the secret itself."""
    return hashlib.sha256(session.encode()).hexdigest()[:40]


async def resumable(app: web.Application, session: str | None) -> Conversation | bool:
    """The conversation of a session the gateway gave out (its own, or the one a follow-up
    link joined it to), True for one it gave out that has none yet, False for a session it
    never issued (the client's own pick)."""
    if not session:
        return False
    found = await app[STORE].chat_conversation(CHANNEL, address_of(session))
    if found is not None:
        return found
    return app[LIMITS].issued(session)


def with_cors(request: web.Request, response: web.Response) -> web.Response:
    """Let the page that asked (an allowed origin: see `origin_allowed`) read the answer of
    a plain HTTP request of the widget (an upload, a file download)."""
    origin = request.headers.get("Origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


def origin_allowed(request: web.Request) -> bool:
    """Browsers always send Origin on WebSockets: one of `chat_origins`, or else the
    gateway's own origin, scheme, host and port alike (http://host is not https://host):
    as this request reached it, or as `public_url` says people reach it (behind a proxy
    that terminates HTTPS)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser (CLI clients, tests); the session secret still applies
    server = request.app[SETTINGS].server
    if server.chat_origins:
        return origin in server.chat_origins
    public = urlsplit(server.public_url)
    return origin.lower() in {f"{request.scheme}://{request.host}".lower(),
                              f"{public.scheme}://{public.netloc}".lower()}


def inbound_for(address: str, client_id: str, text: str, *, name: str = "",
                verified: str | None = None, language: str | None = None,
                meta: dict[str, Any] | None = None,
                attachments: Sequence[InboundAttachment] = ()) -> Inbound:
    """The message, in the conversation at `address` (`address_of` the session, or the
    conversation a follow-up link joined it to); `client_id` deduplicates it; a signed
    customer (`verified`, identity.py) is the same customer on every session and device."""
    sender = Identity(CHANNEL, PREFIX + verified if verified else address, name=name)
    return Inbound(key=ConversationKey(CHANNEL, address), sender=sender, text=text,
                   channel_message_id=f"{address}:{client_id}", language=language,
                   meta=meta or {}, attachments=tuple(attachments))
