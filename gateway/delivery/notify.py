"""Publish/subscribe that pushes changes to open WebSockets (chat and console).

Topics are plain strings such as ``conversation:42`` or ``tickets``. Delivery is best-effort:
the store is the source of truth and every client catches up from it on (re)connect. With
several replicas on one PostgreSQL database, a relay (gateway/delivery/relay.py) carries every
publication to the other replicas' subscribers too.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from typing import Any

Payload = dict[str, Any]
Relay = Callable[[str, Payload], None]


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
        got it (a full, stalled subscriber is skipped)."""
        delivered = self.deliver(topic, payload)
        if self._relay is not None:
            self._relay(topic, payload)
        return delivered

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
