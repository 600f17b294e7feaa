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
        #: Messages of all sockets being stored and decided now (the back-pressure bound).
        self.in_flight = 0

    def enter(self) -> bool:
        """Room for one more message to decide now? Then it counts until `leave`."""
        if self.in_flight >= self.settings.max_in_flight:
            return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        self.in_flight -= 1

    def source(self, request: web.Request) -> str:
        """The client's address: the peer, or what the trusted proxy says it forwarded."""
        if self.settings.trust_forwarded_for:
            forwarded = request.headers.get("X-Forwarded-For", "").rsplit(",", 1)[-1].strip()
            if forwarded:
                return forwarded
        return request.remote or "unknown"

    def message_allowed(self, address: str, session: str) -> bool:
        """One more message from this session at this address? Counted only if both allow."""
        now = time.monotonic()
        if not (self.sessions.has(session, now) and self.addresses.has(address, now)):
            return False
        self.sessions.take(session, now)
        self.addresses.take(address, now)
        return True

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
