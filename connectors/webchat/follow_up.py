"""Offline follow-up: a chat reply the customer did not see is mailed to the address they
left, with a signed link that continues the chat on any device (docs/webchat.md).

The flow stays the gateway's own: the chat's delivery of an operator's reply sets a due
time (`follow_up_reply`), the customer's widget clears it when it shows the reply while they
look (`follow_up_seen`), and this sweep puts what is still unseen when the time comes into
the outbox as one mail on the e-mail channel. The mail is stored in the conversation with a
`reply_key` naming the newest reply it carries, so two replicas (or a crash between the
outbox entry and the bookkeeping) never mail the same replies twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

import structlog
from aiohttp import web

from gateway import signed_links
from gateway.background import background
from gateway.channels import ConversationKey
from gateway.errors import StoreError
from gateway.keys import CONNECTORS, OUTBOX, PIPELINE, SETTINGS, STORE
from gateway.models import Message, utcnow
from gateway.store import Store
from gateway.store.follow_up_queries import FollowUp

log = structlog.get_logger(__name__)

#: What the signed link is for: only a chat follow-up link opens a chat.
PURPOSE = "chat-continue"
#: The page's query parameter the widget reads the token from.
PARAM = "hgw-continue"
#: Conversations mailed per round, at most this many replies quoted in one mail, and
#: the newest this many messages in a transcript.
BATCH = 50
MAX_REPLIES = 10
MAX_TRANSCRIPT = 200
#: Transcripts one conversation may ask for per hour: the address is the customer's word,
#: not proven, so the chat must not become a way to mail someone else over and over.
TRANSCRIPTS_PER_HOUR = 3
#: Kinds of message that are mail about the chat, not part of it.
MAIL_KINDS = frozenset({"follow_up", "transcript"})


class FollowUps:
    """The follow-up mails of one gateway process, and its signed links."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self._secret: str | None = None

    @property
    def store(self) -> Store:
        return self.app[STORE]

    @property
    def available(self) -> bool:
        """The widget may offer the form: the feature is on and mail can go out."""
        return self.app[SETTINGS].webchat.follow_up.enabled and "email" in self.app[CONNECTORS]

    async def _signing_secret(self) -> str:
        if self._secret is None:
            self._secret = await self.store.link_secret()
        return self._secret

    async def link(self, conversation_id: int) -> str:
        settings = self.app[SETTINGS]
        expires = utcnow() + timedelta(days=settings.webchat.follow_up.link_days)
        token = signed_links.sign(await self._signing_secret(), PURPOSE, conversation_id,
                                  expires)
        page = settings.webchat.follow_up.page_url or settings.server.public_url.rstrip("/") + "/"
        parts = urlsplit(page)
        query = "&".join(q for q in (parts.query, urlencode({PARAM: token})) if q)
        return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))

    async def conversation_of(self, token: str) -> int:
        """The conversation a genuine, unexpired link names (`signed_links.LinkInvalid`)."""
        return signed_links.verify(await self._signing_secret(), PURPOSE, token)

    async def replied(self, conversation_id: int, message_id: int) -> None:
        """An operator's reply reached the chat: mail it later unless it is seen."""
        after = timedelta(minutes=self.app[SETTINGS].webchat.follow_up.after_minutes)
        await self.store.follow_up_reply(conversation_id, message_id, utcnow() + after)

    async def run_once(self) -> int:
        """Mail every follow-up that is due; return how many mails were queued."""
        queued = 0
        for due in await self.store.due_follow_ups(utcnow(), BATCH):
            if await self._mail(due):
                queued += 1
        if queued:
            self.app[OUTBOX].wake()
        return queued

    async def _mail(self, due: FollowUp) -> bool:
        store = self.store
        conversation = await store.get_conversation(due.conversation_id)
        after = max(due.seen_upto, due.mailed_upto)
        replies = [m for m in await store.messages(due.conversation_id, after_id=after)
                   if m.author == "operator" and m.id <= due.pending_upto]
        if conversation is None or not replies or conversation.address.startswith("erased:"):
            await store.follow_up_mailed(due.conversation_id, due.pending_upto)
            return False
        settings, texts = self.app[SETTINGS], self.app[PIPELINE].texts
        language = conversation.language or settings.languages.default
        company = settings.company.name
        text = _body(texts("follow_up_intro", language, company=company),
                     replies[-MAX_REPLIES:],
                     texts("follow_up_continue", language,
                           link=await self.link(conversation.id),
                           days=settings.webchat.follow_up.link_days))
        newest = replies[-1].id
        await store.add_reply(
            conversation, author="bot", kind="follow_up", text=text,
            meta={"subject": texts("follow_up_subject", language, company=company),
                  "follow_up_of": newest},
            reply_key=f"follow-up:{conversation.id}:{newest}",
            via=ConversationKey("email", due.email))
        await store.follow_up_mailed(due.conversation_id, newest)
        log.info("webchat.follow_up_queued", conversation_id=conversation.id)  # no address
        return True

    async def transcript(self, conversation_id: int) -> bool:
        """Mail the conversation to the address its customer left; False without one. Asked
        again with nothing new said, it is not sent again (the `reply_key` names the newest
        message)."""
        store = self.store
        left = await store.follow_up_of(conversation_id)
        conversation = await store.get_conversation(conversation_id)
        if left is None or conversation is None:
            return False
        messages = await store.messages(conversation_id)
        hour_ago = utcnow() - timedelta(hours=1)
        if sum(m.kind == "transcript" and m.created_at > hour_ago
               for m in messages) >= TRANSCRIPTS_PER_HOUR:
            return False
        said = [m for m in messages if m.kind not in MAIL_KINDS]
        if not said or any(m.kind == "transcript" and m.meta.get("upto") == said[-1].id
                           for m in messages):
            return False  # nothing said, or nothing new since the last copy
        settings, texts = self.app[SETTINGS], self.app[PIPELINE].texts
        language = conversation.language or settings.languages.default
        company = settings.company.name
        lines = []
        for message in said[-MAX_TRANSCRIPT:]:
            who = (texts("transcript_you", language) if message.author == "customer" else
                   str(message.meta.get("operator") or "") or company)
            lines.append(f"**{who}** ({message.created_at:%Y-%m-%d %H:%M} UTC):\n\n"
                         + _quoted(message.text))
        await store.add_reply(
            conversation, author="bot", kind="transcript", text="\n\n".join(lines),
            meta={"subject": texts("transcript_subject", language, company=company),
                  "upto": said[-1].id},
            reply_key=f"transcript:{conversation_id}:{said[-1].id}",
            via=ConversationKey("email", left.email))
        self.app[OUTBOX].wake()
        return True

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with background(self._loop, "webchat-follow-up"):
            yield

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.app[SETTINGS].webchat.follow_up.sweep_interval)
            try:
                await self.run_once()
            except StoreError as exc:  # the next round tries again
                log.warning("webchat.follow_up_failed", error=str(exc))


def _body(intro: str, replies: list[Message], outro: str) -> str:
    """The mail in Markdown: the intro, each unseen reply quoted with its author, the link."""
    quoted = []
    for reply in replies:
        author = str(reply.meta.get("operator") or "")
        lines = _quoted(reply.text)
        quoted.append(f"**{author}**:\n\n{lines}" if author else lines)
    return "\n\n".join([intro, *quoted, outro])


def _quoted(text: str) -> str:
    """`text` as a Markdown quote, blank lines kept inside it."""
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
