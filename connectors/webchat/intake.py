"""A chat socket's messages in: taken or refused at once, stored in turn, acknowledged as
soon as stored, then decided in the process's queue (decisions.py).

Reading, storing and deciding are apart so that none waits for the next: the socket goes
on reading while a message is stored (so a message over the limits is told "busy" or
"slow down" at once, whatever is being stored), and a stored message is acknowledged
before any decision, its own or others', runs. The socket's messages are stored one after
the other in the order they came, so the conversation keeps them in that order.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import TYPE_CHECKING, Any

import structlog

from connectors.webchat import frames, identity
from connectors.webchat.decisions import Decisions
from connectors.webchat.limits import ChatLimits
from connectors.webchat.render import frame_of
from connectors.webchat.sessions import inbound_for
from gateway.background import stop_task
from gateway.channels import Inbound
from gateway.errors import StoreError
from gateway.keys import PIPELINE, STORE

if TYPE_CHECKING:
    from connectors.webchat.connector import ChatSession

log = structlog.get_logger(__name__)

#: A busy message is sent again after about the time the queue needs to make room for it
#: (`retry_after` in the busy frame), within these bounds, spread by up to half as much.
MIN_RETRY_AFTER_S = 1.0
MAX_RETRY_AFTER_S = 20.0
#: On close, how long the message being stored may take before it is cut short.
STORE_GRACE_S = 5.0

_Item = tuple[Inbound, str | None, "_Place"]


class Intake:
    """The messages of one socket (`ChatSession`), from frame to decision queue."""

    def __init__(self, chat: ChatSession) -> None:
        self.chat = chat
        #: Messages taken and not yet stored, and the task storing them in turn.
        self._inbox: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._storer: asyncio.Task[None] | None = None

    async def take(self, data: frames.ChatMessage) -> None:
        """Take the message, or say at once why not."""
        chat, limits = self.chat, self.chat.limits
        client_id, text = data.client_id, data.text.strip()
        if not text:
            await chat.ws.send_json(frames.error("client_id and text are required", client_id))
            return
        session = chat.session
        assert session is not None
        if not limits.message_allowed(chat.source, session):
            await chat.ws.send_json(frames.error("too many messages, slow down", client_id,
                                                 retry=True))
            return
        decisions = chat.connector.decisions
        if not decisions.may_store(limits.holds(session)):  # its ack would be late
            await chat.ws.send_json(frames.busy(client_id,
                                                MIN_RETRY_AFTER_S * random.uniform(1.0, 1.5)))
            return
        if not limits.enter(session):
            # Not counted against the session's rate: the widget sends it again when told.
            wait = decisions.seconds_for(limits.excess(session))
            await chat.ws.send_json(frames.busy(
                client_id, min(MAX_RETRY_AFTER_S, max(MIN_RETRY_AFTER_S, wait))
                * random.uniform(1.0, 1.5)))
            return
        limits.count(chat.source, session)
        meta: dict[str, Any] = {"action": data.action} if data.action else {}
        if chat.language:
            meta["language_hint"] = chat.language
        inbound = inbound_for(chat.address, client_id, text, name=chat.name,
                              verified=chat.verified, language=data.language, meta=meta)
        if self._storer is None:
            self._storer = asyncio.create_task(self._store_in_turn())
        decisions.storing_begins()
        self._inbox.put_nowait((inbound, data.language, _Place(limits, session, decisions)))

    async def stop(self) -> None:
        """The message being stored is stored (and decided); those not begun are dropped
        unacknowledged (the widget sends them again)."""
        if self._storer is None:
            return
        self._inbox.put_nowait(None)
        await asyncio.wait({self._storer}, timeout=STORE_GRACE_S)
        await stop_task(self._storer)
        while not self._inbox.empty():
            if (item := self._inbox.get_nowait()) is not None:
                item[2].stored()
                item[2].give_back()

    async def _store_in_turn(self) -> None:
        while (item := await self._inbox.get()) is not None:
            inbound, language, place = item
            if self.chat.ws.closed:  # not acknowledged: the widget sends it again
                place.stored()
                place.give_back()
                continue
            try:
                await self._store(inbound, language, place)
            except BaseException:
                if not place.handed:
                    place.give_back()
                raise
            finally:
                place.stored()

    async def _store(self, inbound: Inbound, language: str | None, place: _Place) -> None:
        """Store, acknowledge, queue for its decision; its place is given back once it is
        decided (or at once when there is nothing to decide)."""
        chat = self.chat
        client_id = inbound.channel_message_id.partition(":")[2]
        try:
            if chat.verified is not None and not chat.marked:
                await identity.verify_conversation(chat.app[STORE], inbound.key,
                                                   inbound.sender, chat.verified, language)
                chat.marked = True
            stored = await chat.app[PIPELINE].store_only(inbound)
            place.stored()  # before its decision is queued: none starts while one waits
        except StoreError as exc:
            log.error("webchat.store_unavailable", error=str(exc))
            place.give_back()
            await self._send(frames.error("temporarily unavailable, resending shortly",
                                          client_id, retry=True))
            return
        outcome = stored.outcome
        chat.conversation_id = outcome.conversation_id
        ack: dict[str, Any] = {"type": "ack", "client_id": client_id,
                               "message_id": outcome.message_id,
                               "conversation_id": outcome.conversation_id}
        if stored.owner is None:  # a resend of a stored message: the replies it got so far
            place.give_back()
            await self._send(ack)
            for reply in outcome.replies:
                await self._send(frame_of(reply))
            return
        decisions = chat.connector.decisions
        if decisions.queued(inbound.key):
            ack["queued"] = True  # stored; its reply waits for others' decisions
        decisions.submit(stored, place.give_back)
        place.handed = True
        await self._send(ack)

    async def _send(self, frame: dict[str, Any]) -> None:
        """A frame for a socket that may have closed meanwhile (what was stored stays)."""
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.chat.ws.send_json(frame)


class _Place:
    """A message's place in `ChatLimits.in_flight`, given back once; and among those
    waiting to be stored (`Decisions.storing`), left once."""

    def __init__(self, limits: ChatLimits, session: str, decisions: Decisions) -> None:
        self.limits = limits
        self.session = session
        self.decisions = decisions
        self.handed = False  # to the decision queue, which gives it back when decided
        self._back = False
        self._stored = False

    def stored(self) -> None:
        if not self._stored:
            self._stored = True
            self.decisions.storing_ends()

    def give_back(self) -> None:
        if not self._back:
            self._back = True
            self.limits.leave(self.session)
