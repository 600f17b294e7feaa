"""The mailbox lease in the store (SQLite and PostgreSQL): one holder at a time, renewed
by its holder, taken over only once it expired or was let go."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from connectors.email.lease import MailboxLease
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


async def test_a_restarted_replica_takes_over_the_lease_its_killed_predecessor_held(
        stores: tuple[Store, Store]) -> None:
    """After a SIGKILL on the same machine the new process reads the mailbox at once,
    not after the dead lease runs out; a live holder keeps its lease."""
    first, second = stores
    dead_process = await asyncio.create_subprocess_exec("true")
    await dead_process.wait()
    alive = MailboxLease(lambda: first, NAME, 300)
    restarted = MailboxLease(lambda: second, NAME, 300)
    prefix = alive.holder.rsplit(":", 2)[0]
    killed = f"{prefix}:{dead_process.pid}:abcdef"
    await first.acquire_lease(NAME, killed, timedelta(seconds=300))
    await asyncio.wait_for(restarted.acquire(), 5)
    assert restarted.held and (await first.lease(NAME)).holder == restarted.holder

    await second.release_lease(NAME, restarted.holder)
    await alive.acquire()  # this test's own process: alive, so never taken from
    assert not await MailboxLease(lambda: second, NAME, 300)._try()
    assert (await second.lease(NAME)).holder == alive.holder


async def test_a_lease_of_another_machine_is_waited_out_even_if_its_pid_is_free_here(
        stores: tuple[Store, Store]) -> None:
    first, second = stores
    dead_process = await asyncio.create_subprocess_exec("true")
    await dead_process.wait()
    await first.acquire_lease(NAME, f"other-host:4026531836:{dead_process.pid}:abcdef",
                              timedelta(seconds=300))
    assert not await MailboxLease(lambda: second, NAME, 300)._try()
