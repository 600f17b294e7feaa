"""The faults of a run, each at seeded random moments of the delivery window.

SIGKILL and restart of a random replica; TCP resets of IMAP connections (at random, or
half-way through a FETCH answer) and of SMTP sends half-way through DATA; IMAP and SMTP
outages (connection refused) starting at a third of the window; a UIDVALIDITY reset at
half of it; pg_terminate_backend on every connection of the gateway(s).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable

from tests.faults.gateway_proc import GatewayProcess
from tests.faults.mailboxes import customer_mail, message_id
from tests.faults.state import Run, complete

#: A single mail's FETCH answer is larger than this; greetings and OK lines are smaller.
_FETCH_BYTES = 512


async def inject(run: Run) -> None:
    s = run.scenario
    run.faults.update({"imap_random_cuts_missed": 0, "pg_backends_terminated": 0})
    began = time.monotonic()
    run.faults_began = time.time()
    jobs = [_kills(run, began, _times(run, s.kills))]
    jobs += [_at(run, began, t, lambda: _cut_imap(run), "imap cut")
             for t in _times(run, s.imap_cuts)]
    jobs += [_at(run, began, t, lambda: _bye_imap(run), "imap bye")
             for t in _times(run, s.imap_byes)]
    jobs += [_at(run, began, t, lambda: _kill_pg(run), "pg kill")
             for t in _times(run, s.pg_kills)]
    # (Drawn after the other faults, whose seeded moments stay as they were.)
    # Transfer cuts are armed one by one at random moments: each cuts the first large
    # transfer after its moment. Armed all at the start, they fell on the first transfers
    # of the run (issue 11's long run: its 10 mid-FETCH cuts on the first 10 FETCH
    # answers, its 20 mid-DATA cuts on the first 20 replies). A cut armed late still
    # happens: FETCHes and replies go on a little after the last delivery.
    jobs += [_at(run, began, t, lambda: _arm_transfer_cut(run, "imap"), "")
             for t in _times(run, s.imap_transfer_cuts)]
    jobs += [_at(run, began, t, lambda: _arm_transfer_cut(run, "smtp"), "")
             for t in _times(run, s.smtp_cuts)]
    if s.imap_outage:
        jobs.append(_at(run, began, run.window / 3, lambda: _outage(run, "imap", s.imap_outage),
                        "imap outage"))
    if s.smtp_outage:
        jobs.append(_at(run, began, run.window / 3, lambda: _outage(run, "smtp", s.smtp_outage),
                        "smtp outage"))
    if s.uidvalidity_reset:
        jobs.append(_at(run, began, run.window / 2, lambda: _reset(run), "uidvalidity reset"))
    await asyncio.gather(*jobs)


def _times(run: Run, count: int) -> list[float]:
    return sorted(run.rng.uniform(0.1, 0.9) * run.window for _ in range(count))


async def _at(run: Run, began: float, offset: float,
              fault: Callable[[], Awaitable[None]], name: str) -> None:
    """Run `fault` at `offset` seconds; a named one goes into the run's timeline as
    [name, seconds into the schedule, seconds it took] (the post-mortem of a stall)."""
    await asyncio.sleep(max(0.0, began + offset - time.monotonic()))
    started = time.monotonic()
    try:
        await fault()
    except Exception as exc:  # the run goes on and reports what went wrong
        run.errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
    if name:
        run.timeline.append([name, round(started - began, 1),
                             round(time.monotonic() - started, 1)])


async def _kills(run: Run, began: float, times: list[float]) -> None:
    """One after the other: a kill never hits a replica that is still starting."""
    for offset in times:
        await _at(run, began, offset, lambda: _kill_and_restart(run), "sigkill and restart")


async def _kill_and_restart(run: Run) -> None:
    alive = [gw for gw in run.gateways if gw.running]
    if not alive:
        return
    gw = run.rng.choice(alive)
    if run.scenario.kill_at == "quiet":
        async with run.mailbox.lock:  # no mail arrives until the kill
            if not await complete(run, 60.0):
                run.errors.append("not quiet within 60 s before a kill")
            await asyncio.sleep(1.0)  # past the bookkeeping after the last 250
            await gw.kill()
    elif run.scenario.kill_at == "after-250":
        await _kill_after_250(run, gw)
    elif run.scenario.kill_at == "mid-mail":
        await _mid_mail(run, gw.kill)
    elif run.scenario.kill_at == "holder":
        gw = await _kill_holder(run)
    else:
        await gw.kill()
    await asyncio.sleep(run.scenario.kill_downtime)
    await gw.start()


async def _kill_after_250(run: Run, gw: GatewayProcess) -> None:
    """Kill right after the sink answered 250 to a reply's DATA: the reply was accepted,
    and the gateway has not necessarily written that down. Deliveries pause and all
    mail so far is answered first, then one more mail comes: its reply is the only
    thing in flight when the process dies."""
    async with run.mailbox.lock:
        if not await complete(run, 60.0):
            run.errors.append("not quiet within 60 s before an after-250 kill")
        run.sink.answered.clear()
        run.sink.after_250.set()
        await _one_more_mail(run)
        await _kill_after_answer(run, gw)


async def _kill_holder(run: Run) -> GatewayProcess:
    """SIGKILL the replica that holds the mailbox lease; measure the seconds until another
    one holds it and is connected (`lease_takeover_s`). Returns the killed replica."""
    deadline = time.monotonic() + 60
    while True:
        alive = [gw for gw in run.gateways if gw.running]
        held = [gw for gw in alive
                if (await gw.email_health()).get("lease", {}).get("held_here")]
        if len(held) == 1 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    if len(held) != 1:
        run.errors.append(f"{len(held)} replicas held the mailbox lease before a kill")
        held = held or alive[:1]
    await held[0].kill()
    killed_at = time.monotonic()
    others = [gw for gw in run.gateways if gw.running]
    while time.monotonic() - killed_at < 120:
        for gw in others:
            email = await gw.email_health()
            if email.get("lease", {}).get("held_here") and email.get("connected"):
                run.faults.setdefault("lease_takeover_s", []).append(
                    round(time.monotonic() - killed_at, 1))
                return held[0]
        await asyncio.sleep(0.2)
    run.errors.append("no replica took the mailbox lease over within 120 s")
    return held[0]


async def _one_more_mail(run: Run) -> None:
    """Deliver one extra mail (numbered after the run's own); the caller holds the lock."""
    n = run.scenario.backlog + run.scenario.mails + 1000 + run.extra_mails
    run.extra_mails += 1
    await run.mailbox.append(customer_mail(run.tag, n), locked=True)
    run.ledger.delivered[message_id(run.tag, n)] = time.time()


async def _mid_mail(run: Run, fault: Callable[[], Awaitable[object]]) -> None:
    """The fault while one mail is stored and not handled: its handling holds the claim.

    Deliveries pause and all mail so far is answered; one more mail comes and the
    database is watched (plain SQL, every 10 ms) until its row exists unhandled."""
    async with run.mailbox.lock:
        if not await complete(run, 60.0):
            run.errors.append("not quiet within 60 s before a mid-mail fault")
        async with run.database.outbox_held():
            await _one_more_mail(run)
            deadline = time.monotonic() + 60
            while not await run.database.unhandled():
                if time.monotonic() > deadline:
                    run.errors.append("no mail stored unhandled within 60 s for a mid-mail"
                                      " fault")
                    return
                await asyncio.sleep(0.01)
            await fault()


async def _kill_after_answer(run: Run, gw: GatewayProcess) -> None:
    try:
        if not await _set_within(run.sink.answered, 60.0):
            run.errors.append("no reply was sent within 60 s before an after-250 kill")
        await gw.kill()
    finally:
        run.sink.after_250.clear()


async def _set_within(event: threading.Event, seconds: float) -> bool:
    """Whether the sink's `event` (set from its own thread) is set within `seconds`."""
    deadline = time.monotonic() + seconds
    while not event.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return event.is_set()


async def _arm_transfer_cut(run: Run, which: str) -> None:
    """The next large transfer: a FETCH answer from Dovecot, or a reply's DATA."""
    if which == "imap":
        run.imap.cut_during_transfer(1, _FETCH_BYTES)
    else:
        run.smtp.cut_during_transfer(1, _FETCH_BYTES, upstream=True)


async def _cut_imap(run: Run) -> None:
    if not run.imap.cut_one():
        run.faults["imap_random_cuts_missed"] += 1


async def _bye_imap(run: Run) -> None:
    run.faults["imap_byes"] = run.faults.get("imap_byes", 0) + run.imap.bye()


async def _kill_pg(run: Run) -> None:
    if run.scenario.kill_at == "mid-mail":
        async def terminate() -> None:
            run.faults["pg_backends_terminated"] += await run.database.terminate_backends()

        await _mid_mail(run, terminate)
        return
    if run.scenario.kill_at == "marking-sent":
        await _kill_pg_marking_sent(run)
        return
    if run.scenario.kill_at == "quiet":
        async with run.mailbox.lock:
            if not await complete(run, 60.0):
                run.errors.append("not quiet within 60 s before killing PostgreSQL connections")
            run.faults["pg_backends_terminated"] += await run.database.terminate_backends()
        return
    run.faults["pg_backends_terminated"] += await run.database.terminate_backends()


async def _kill_pg_marking_sent(run: Run) -> None:
    """Deliveries pause and all mail so far is answered; one more mail comes. The sink
    records its reply and holds the 250 while the outbox is locked, then answers: the
    gateway's UPDATE marking the reply sent waits on the lock, and its connections are
    killed there. The reply was delivered; nothing may send it again."""
    async with run.mailbox.lock:
        if not await complete(run, 60.0):
            run.errors.append("not quiet within 60 s before a marking-sent fault")
        run.sink.data_in.clear()
        run.sink.release_250.clear()
        run.sink.hold_250.set()
        try:
            await _one_more_mail(run)
            if not await _set_within(run.sink.data_in, 60.0):
                run.errors.append("no reply reached the sink within 60 s (marking-sent)")
                return
            async with run.database.outbox_held():
                run.sink.hold_250.clear()
                run.sink.release_250.set()
                if not await run.database.waiting_on_outbox("UPDATE outbox SET status = 'sent'",
                                                            timeout=30.0):
                    run.errors.append("the gateway never tried to mark its reply sent")
                run.faults["pg_backends_terminated"] += await run.database.terminate_backends()
        finally:
            run.sink.hold_250.clear()
            run.sink.release_250.set()


async def _outage(run: Run, which: str, seconds: float) -> None:
    proxy = run.imap if which == "imap" else run.smtp
    began = time.time()
    away = len(run.ledger.unavailable)
    if which == "imap":  # while it lasts too: the health sampler must not call it a stall
        run.ledger.unavailable.append((began, math.inf))
    await proxy.outage()
    await asyncio.sleep(seconds)
    await proxy.restore()
    run.faults[f"{which}_outage_s"] = seconds
    if which == "imap":
        run.ledger.unavailable[away] = (began, time.time())


async def _reset(run: Run) -> None:
    """The mailbox deleted and filled again; mail waits meanwhile (not a stall): from the
    DELETE to the last mail back in (reading it first, under the delivery lock, is not)."""
    try:
        before, after = await run.mailbox.reset_uidvalidity()
    finally:
        if run.mailbox.reset_window is not None:
            run.ledger.unavailable.append(run.mailbox.reset_window)
    run.faults["uidvalidity"] = [before, after]
