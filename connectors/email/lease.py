"""One replica at a time reads a mailbox: a lease in the database, renewed by its poller.

With several replicas on one database each would otherwise poll the same mailbox and take
every mail in twice (issue 11: 418 of 500 mails were processed by both, 25 quarantined on
the races). The replica holding the lease reads the mailbox and renews the lease every
third of `ttl`; the others wait and try to take it over as often. When the holder dies
its lease runs out and another replica takes over within `ttl` plus one try; a clean
shutdown lets it go at once. A holder that cannot renew in time (database unreachable)
stops reading before its lease can run out.

A holder that was killed and restarted on the same machine would otherwise wait out its
own dead lease (up to `ttl` plus a try, issue 11: replies 30 s late after a SIGKILL). The
holder id names the host, the PID namespace and the PID, so a replica that sees a lease of
its own host and namespace whose process is gone takes it over at once. A reused PID only
makes it wait for the expiry, as before; a replica elsewhere never judges a foreign PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog

from gateway.errors import StoreError
from gateway.store import Store
from gateway.store.lease_queries import Lease

log = structlog.get_logger(__name__)


def _machine() -> str:
    """The host and its PID namespace: PIDs compare only within one namespace."""
    try:
        namespace = os.readlink("/proc/self/ns/pid").removeprefix("pid:").strip("[]")
    except OSError:
        namespace = "-"
    return f"{socket.gethostname()}:{namespace}"


def _died_here(holder: str) -> bool:
    """`holder` ran on this host and PID namespace, and its process is gone."""
    machine, _, pid = holder.rpartition(":")[0].rpartition(":")  # host:namespace:pid:random
    if machine != _machine() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, under another user
        return False
    return False


class MailboxLease:
    """`acquire()` waits until this replica holds the lease; `keep()` renews it and
    returns once it is lost; `health()` says who holds it."""

    def __init__(self, store: Callable[[], Store], name: str, ttl: float) -> None:
        self._store = store
        self.name = name
        self.ttl = ttl
        #: This replica's id in the lease row: the host, the PID namespace, the process and
        #: a random part.
        self.holder = f"{_machine()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.held = False
        self._seen: Lease | None = None

    @property
    def standing_by(self) -> bool:
        """Another replica holds the lease (not: this one has not asked yet)."""
        seen = self._seen
        return not self.held and seen is not None and seen.holder != self.holder

    @property
    def _every(self) -> float:
        return self.ttl / 3

    async def _try(self) -> bool:
        """One attempt to take or renew the lease; False when another replica has it."""
        lease = await asyncio.wait_for(
            self._store().acquire_lease(self.name, self.holder, timedelta(seconds=self.ttl)),
            self._every / 2)
        self._seen = lease
        if lease.holder != self.holder and _died_here(lease.holder):
            log.warning("email.lease.holder_dead", mailbox=self.name, dead=lease.holder)
            if await self._store().take_over_lease(self.name, lease.holder, self.holder,
                                                   timedelta(seconds=self.ttl)):
                self._seen = await self._store().lease(self.name)
                return True
        return lease.holder == self.holder

    async def acquire(self) -> None:
        """Until this replica holds the lease (at once when nobody else does)."""
        while True:
            try:
                if await self._try():
                    self.held = True
                    log.info("email.lease.acquired", mailbox=self.name, holder=self.holder)
                    return
            except (StoreError, TimeoutError) as exc:
                log.warning("email.lease.unavailable", error=str(exc))
            await asyncio.sleep(self._every)

    async def keep(self) -> None:
        """Renew the lease every third of `ttl`; return when it was lost, or when it could
        not be renewed and would run out before the next try."""
        valid_until = time.monotonic() + self.ttl
        while True:
            await asyncio.sleep(self._every)
            asked = time.monotonic()
            renewed: bool | None = None
            try:
                renewed = await self._try()
            except (StoreError, TimeoutError) as exc:
                log.warning("email.lease.renew_failed", error=str(exc))
            if renewed:
                valid_until = asked + self.ttl
            # Go on only while one more full try would still end before the lease runs out.
            if renewed is False or time.monotonic() + 2 * self._every > valid_until:
                self.held = False
                log.warning("email.lease.lost", mailbox=self.name, holder=self.holder,
                            taken_by=self._seen.holder if self._seen else None)
                return

    async def release(self) -> None:
        """Let another replica take over now (a clean shutdown); best effort."""
        if self.held:
            self.held = False
            with contextlib.suppress(StoreError, TimeoutError):
                await asyncio.wait_for(self._store().release_lease(self.name, self.holder),
                                       self._every)

    def health(self) -> dict[str, Any]:
        """For /readyz: who holds the mailbox, until when, and whether it is this replica."""
        seen = self._seen
        return {
            "held_here": self.held,
            "holder": seen.holder if seen else None,
            "this_replica": self.holder,
            "expires_at": seen.expires_at.isoformat() if seen else None,
            "since": seen.acquired_at.isoformat() if seen else None,
        }
