"""The mailbox lease in the store (SQLite and PostgreSQL): one holder at a time, renewed
by its holder, taken over only once it expired or was let go."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from gateway.store import Store, store_for

NAME = "email:imap:support@imap.test:993/INBOX"


@pytest.fixture
async def stores(database_url: str) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores on one database, as two replicas have."""
    first, second = store_for(database_url), store_for(database_url)
    await first.open()
    await second.open()
    yield first, second
    await first.close()
    await second.close()


async def test_the_lease_has_one_holder_until_it_expires(stores: tuple[Store, Store]) -> None:
    first, second = stores
    ttl = timedelta(seconds=1)
    taken = await first.acquire_lease(NAME, "replica-a", ttl)
    assert taken.holder == "replica-a"
    refused = await second.acquire_lease(NAME, "replica-b", ttl)
    assert refused.holder == "replica-a"
    await asyncio.sleep(0.6)
    renewed = await first.acquire_lease(NAME, "replica-a", ttl)
    assert renewed.holder == "replica-a" and renewed.expires_at > taken.expires_at
    assert renewed.acquired_at == taken.acquired_at  # the same turn
    await asyncio.sleep(0.6)  # past the first expiry, not past the renewal
    assert (await second.acquire_lease(NAME, "replica-b", ttl)).holder == "replica-a"
    await asyncio.sleep(0.6)  # the holder died: nobody renewed
    over = await second.acquire_lease(NAME, "replica-b", ttl)
    assert over.holder == "replica-b" and over.acquired_at > taken.acquired_at
    assert (await first.acquire_lease(NAME, "replica-a", ttl)).holder == "replica-b"


async def test_two_replicas_racing_for_a_free_lease_get_one_holder(
        stores: tuple[Store, Store]) -> None:
    first, second = stores
    ttl = timedelta(seconds=30)
    results = await asyncio.gather(*(store.acquire_lease(NAME, f"replica-{i}", ttl)
                                     for i, store in enumerate((first, second, first, second))))
    assert len({lease.holder for lease in results}) == 1


async def test_a_released_lease_is_taken_over_at_once(stores: tuple[Store, Store]) -> None:
    first, second = stores
    ttl = timedelta(seconds=30)
    await first.acquire_lease(NAME, "replica-a", ttl)
    await second.release_lease(NAME, "replica-b")  # not theirs: nothing happens
    assert (await second.acquire_lease(NAME, "replica-b", ttl)).holder == "replica-a"
    await first.release_lease(NAME, "replica-a")
    assert (await second.acquire_lease(NAME, "replica-b", ttl)).holder == "replica-b"
