"""Holding an inbound message's handling claim while it is being decided.

A handler takes the claim (`Store.reclaim_unhandled`) for `CLAIM`, renews it every third
of that while the decision runs, and gives it up at once when the decision fails. So a
handler that dies (SIGKILL, a killed database connection) holds its message for at most
`CLAIM`, after which the resume sweep, run every `SWEEP_EVERY`, finishes it (issue 11:
a 60 s claim and a 30 s sweep delayed such replies by 60-90 s). A handler that cannot
renew in time (stalled, database down) stops deciding before its claim can run out,
so two handlers never decide one message at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable
from datetime import timedelta
from typing import TypeVar

import structlog

from gateway.errors import StoreError
from gateway.store import Store

log = structlog.get_logger(__name__)

T = TypeVar("T")

#: Attempts at releasing a failed handler's claim (see `_release`).
_RELEASE_TRIES = 5

#: How long a claim lasts without renewal: the longest a dead handler delays a message.
CLAIM = timedelta(seconds=15)
#: The resume sweep's cadence (and how often a claim is renewed).
SWEEP_EVERY = CLAIM.total_seconds() / 3


class ClaimLost(StoreError):
    """The claim ran out or was taken over before the decision finished; it was stopped
    and another handler (a resend, the resume sweep) finishes the message."""


def new_owner() -> str:
    """A token for one attempt at handling one message."""
    return uuid.uuid4().hex


async def holding(store: Store, message_id: int, owner: str, work: Awaitable[T],
                  claim: timedelta = CLAIM, since: float | None = None) -> T:
    """Run `work` while renewing `owner`'s claim; stop it with `ClaimLost` when the claim
    could not be renewed before it would run out. On failure the claim is released.
    `since`: when the claim was taken (`time.monotonic()`), if not just now (a message
    stored and decided a moment later): it runs out `claim` from then."""
    lease = claim.total_seconds()
    every = lease / 3
    patience = every / 2  # one renewal may take this long; slower counts as failed
    task = asyncio.ensure_future(work)
    valid_until = (time.monotonic() if since is None else since) + lease
    try:
        while True:
            await asyncio.wait({task}, timeout=every)
            if task.done():
                return task.result()
            asked = time.monotonic()
            renewed: bool | None = None
            with contextlib.suppress(StoreError, TimeoutError):
                async with asyncio.timeout(patience):
                    renewed = await store.renew_claim(message_id, owner, claim)
            if task.done():  # finished while the renewal waited (e.g. on its commit)
                return task.result()
            if renewed:
                valid_until = asked + lease
            # Go on only if the claim still holds when the next renewal has been tried.
            if renewed is False or time.monotonic() + every + patience > valid_until:
                log.warning("claim.lost", message_id=message_id, taken_over=renewed is False)
                raise ClaimLost(f"message {message_id}: handling claim lost")
    except BaseException:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        await _release(store, message_id, owner, patience)
        raise


async def _release(store: Store, message_id: int, owner: str, patience: float) -> None:
    """Best effort: after a killed database connection the pool may hand out a few more
    dead ones (each is dropped when it fails), so try again a few times."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(patience):
            for _ in range(_RELEASE_TRIES):
                with contextlib.suppress(StoreError):
                    await store.release_claim(message_id, owner)
                    return
