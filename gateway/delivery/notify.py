"""Publish/subscribe that pushes changes to open WebSockets (chat and console).

Topics are plain strings such as ``conversation:42`` or ``tickets``. Delivery is best-effort:
the store is the source of truth and every client catches up from it on (re)connect. With
several replicas on one PostgreSQL database, a relay (gateway/delivery/relay.py) carries every
publication to the other replicas' subscribers too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

Payload = dict[str, Any]
Relay = Callable[[str, Payload], None]

#: Publications held back until the block that holds them ends (`Hub.held`).
_HELD: ContextVar[list[tuple[Hub, str, Payload]] | None] = ContextVar("hub-held", default=None)


def live_topic(channel: str, address: str) -> str:
    """The topic a channel's live sockets for one conversation listen on (the web chat's open
    tabs): replies and "operator is typing" go there."""
    return f"{channel}:{address}"


class Hub:
    def __init__(self, queue_size: int = 256) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Payload]]] = defaultdict(set)
        self._queue_size = queue_size
        self._relay: Relay | None = None

    def relay_to(self, relay: Relay | None) -> None:
        """Also hand every publication to `relay` (other replicas); None stops it."""
        self._relay = relay

    @property
    def relayed(self) -> bool:
        return self._relay is not None

    def subscribe(self, topic: str) -> asyncio.Queue[Payload]:
        queue: asyncio.Queue[Payload] = asyncio.Queue(self._queue_size)
        self._subscribers[topic].add(queue)
        return queue

    def unsubscribe(self, topic: str, queue: asyncio.Queue[Payload]) -> None:
        subscribers = self._subscribers.get(topic)
        if subscribers is not None:
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[topic]

    def publish(self, topic: str, payload: Payload) -> int:
        """Deliver here and through the relay; return how many subscribers of this process
        got it (a full, stalled subscriber is skipped; 0 while `held`)."""
        held = _HELD.get()
        if held is not None:
            held.append((self, topic, payload))
            return 0
        delivered = self.deliver(topic, payload)
        if self._relay is not None:
            self._relay(topic, payload)
        return delivered

    @staticmethod
    @contextlib.contextmanager
    def held() -> Iterator[None]:
        """Hold this task's publications until the block ends, then publish them; drop
        them when it fails. Around a transaction, nobody is told of a change (a new
        ticket, a reply) before it is committed and readable, or of one rolled back."""
        if _HELD.get() is not None:  # an outer block holds them already
            yield
            return
        held: list[tuple[Hub, str, Payload]] = []
        token = _HELD.set(held)
        try:
            yield
        finally:
            _HELD.reset(token)
        for hub, topic, payload in held:
            hub.publish(topic, payload)

    def deliver(self, topic: str, payload: Payload) -> int:
        """To this process's subscribers only (what a relay calls with what it heard)."""
        delivered = 0
        for queue in self._subscribers.get(topic, ()):
            try:
                queue.put_nowait(payload)
                delivered += 1
            except asyncio.QueueFull:
                continue
        return delivered

    def listeners(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))
