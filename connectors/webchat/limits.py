"""Abuse limits of the web chat: token buckets per source address and per session, and a
cap on new sessions per address.

A limit per socket is no limit: a script opens a hundred sockets. These buckets outlive
the sockets and are keyed by what a client cannot multiply cheaply (its address) and by
the session the conversation lives in. They are in memory, per gateway process: the
numbers are per replica, and a restart forgets them (both err on the generous side).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict

from aiohttp import web

from gateway.config.web import WebChatSettings

#: Buckets kept per kind; the least recently used is dropped beyond (memory stays bounded).
MAX_TRACKED = 20_000
#: How long an issued session not yet used for a conversation can be resumed.
ISSUED_TTL = 24 * 3600.0


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, burst: float, now: float) -> None:
        self.tokens = burst
        self.stamp = now


class Buckets:
    """Token buckets by key: `burst` at once, refilled at `per_minute`."""

    def __init__(self, burst: float, per_minute: float) -> None:
        self.burst = burst
        self.rate = per_minute / 60.0
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def _refilled(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
            if len(self._buckets) > MAX_TRACKED:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        return bucket

    def has(self, key: str, now: float) -> bool:
        return self._refilled(key, now).tokens >= 1

    def take(self, key: str, now: float) -> None:
        self._refilled(key, now).tokens -= 1


class ChatLimits:
    """The limits of one gateway process, shared by all its chat sockets."""

    def __init__(self, settings: WebChatSettings) -> None:
        self.settings = settings
        self.sessions = Buckets(settings.session_burst, settings.session_per_minute)
        self.addresses = Buckets(settings.address_burst, settings.address_per_minute)
        self.new_sessions = Buckets(settings.new_sessions_per_minute,
                                    settings.new_sessions_per_minute)
        self._issued: OrderedDict[str, float] = OrderedDict()
        #: Messages of all sockets taken and not yet decided (being stored, waiting for
        #: their decision, being decided): the back-pressure bound, and per session.
        self.in_flight = 0
        self._sessions_in_flight: dict[str, int] = {}

    def enter(self, session: str) -> bool:
        """Room for one more message of `session`? Then it counts until `leave`.

        At most `max_in_flight` in all; a session that has a message waiting already gets
        a place only while the process holds fewer than a quarter of that, so in a burst
        every visitor's first message is taken before anybody's next ones."""
        limit = self.settings.max_in_flight
        mine = self._sessions_in_flight.get(session, 0)
        if self.in_flight >= limit or (mine and self.in_flight >= max(1, limit // 4)):
            return False
        self.in_flight += 1
        self._sessions_in_flight[session] = mine + 1
        return True

    def holds(self, session: str) -> bool:
        """Whether a message of `session` is held (taken, not yet decided)."""
        return session in self._sessions_in_flight

    def excess(self, session: str) -> int:
        """How many messages must be decided before `enter(session)` finds a place."""
        limit = self.settings.max_in_flight
        bound = max(1, limit // 4) if self._sessions_in_flight.get(session) else limit
        return max(0, self.in_flight - bound + 1)

    def leave(self, session: str) -> None:
        self.in_flight -= 1
        mine = self._sessions_in_flight.pop(session, 1) - 1
        if mine > 0:
            self._sessions_in_flight[session] = mine

    def source(self, request: web.Request) -> str:
        """The client's address: the peer, or what the trusted proxy says it forwarded."""
        if self.settings.trust_forwarded_for:
            forwarded = request.headers.get("X-Forwarded-For", "").rsplit(",", 1)[-1].strip()
            if forwarded:
                return forwarded
        return request.remote or "unknown"

    def message_allowed(self, address: str, session: str) -> bool:
        """One more message from this session at this address? Not counted yet: `count`
        once it is taken (a message told "busy" and sent again is one message, not two)."""
        now = time.monotonic()
        return self.sessions.has(session, now) and self.addresses.has(address, now)

    def count(self, address: str, session: str) -> None:
        now = time.monotonic()
        self.sessions.take(session, now)
        self.addresses.take(address, now)

    def new_session(self, address: str) -> str | None:
        """A fresh session token (192 random bits) for this address, or None over the cap."""
        now = time.monotonic()
        if not self.new_sessions.has(address, now):
            return None
        self.new_sessions.take(address, now)
        token = secrets.token_urlsafe(24)
        self._issued[_digest(token)] = now
        while len(self._issued) > MAX_TRACKED or (
                self._issued and next(iter(self._issued.values())) < now - ISSUED_TTL):
            self._issued.popitem(last=False)
        return token

    def issued(self, token: str) -> bool:
        """Whether this process issued the token (a second tab before the first message)."""
        stamp = self._issued.get(_digest(token))
        return stamp is not None and stamp >= time.monotonic() - ISSUED_TTL


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
