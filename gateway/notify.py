"""In-process publish/subscribe that pushes changes to open WebSockets (chat and console).

Topics are plain strings such as ``conversation:42`` or ``tickets``. Delivery is best-effort:
the store is the source of truth and every client catches up from it on (re)connect.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

Payload = dict[str, Any]


class Hub:
    def __init__(self, queue_size: int = 256) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Payload]]] = defaultdict(set)
        self._queue_size = queue_size

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
        """Return how many live subscribers got it; a full (stalled) subscriber is skipped."""
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
