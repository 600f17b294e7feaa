"""One fault-injection run: the real gateway process(es), Dovecot, an SMTP sink, the fault
proxies and the faults, then the exactly-once ledger (accounting.py) as a dict.

    report = await run(Scenario("kills", mails=40, kills=3))

Mail is delivered at `rate` per second; the faults fall at seeded random moments of the
delivery window (outages start at a third of it); afterwards the run waits up to `settle`
seconds for every mail to be ingested and answered, then stops the gateway(s) and counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.email_live.servers import IMAP_PORT, ensure_dovecot, unique_mailbox
from tests.faults import injectors
from tests.faults.accounting import HealthSample, Ledger, account, union
from tests.faults.db import Database
from tests.faults.gateway_proc import GatewayConfig, GatewayProcess
from tests.faults.mailboxes import Mailbox, warm_up_mail
from tests.faults.proxy import TcpProxy
from tests.faults.sink import SmtpSink
from tests.faults.state import Run, Scenario, complete


async def run(scenario: Scenario, workdir: Path | None = None) -> dict[str, Any]:
    error = ensure_dovecot()
    if error:
        raise RuntimeError(error)
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="faults-")))
        return await _run(scenario, workdir)


async def _run(scenario: Scenario, workdir: Path) -> dict[str, Any]:
    rng = random.Random(scenario.seed)
    tag = uuid.uuid4().hex[:8]
    sink = SmtpSink().start()
    imap = await TcpProxy(IMAP_PORT, rng=random.Random(rng.random())).start()
    smtp = await TcpProxy(sink.port, rng=random.Random(rng.random())).start()
    mailbox = Mailbox(scenario.user, unique_mailbox())
    database = Database(scenario.database, workdir)
    await mailbox.create()
    await database.create()
    config = GatewayConfig(database.url, imap.port, smtp.port, mailbox.name,
                           imap_user=scenario.user, outbox=dict(scenario.outbox),
                           email=dict(scenario.email),
                           log_level=scenario.log_level)
    gateways = [GatewayProcess(config, workdir, f"gw{i}") for i in range(scenario.replicas)]
    state = Run(scenario, rng, gateways, imap, smtp, sink, mailbox, database, Ledger(),
                tag)
    began = time.monotonic()
    try:
        if scenario.backlog:
            await mailbox.deliver(tag, scenario.backlog, 1000.0, _recorder(state), start=0)
        await _start_all(state)
        await _warm_up(state, tag)
        sampler = asyncio.create_task(_sample_health(state))
        try:
            await asyncio.gather(
                mailbox.deliver(tag, scenario.mails, scenario.rate, _recorder(state),
                                start=scenario.backlog),
                injectors.inject(state))
            await _settle(state)
        finally:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
        end = time.time()
        for gw in gateways:
            await gw.stop()
        state.ledger.up = union([i for gw in gateways for i in gw.up])
        figures = account(state.ledger, await database.ingested(), sink.received,
                          await database.quarantined(), end, state.faults_began or None)
    finally:
        for gw in gateways:
            with contextlib.suppress(Exception):
                await gw.kill()
        await imap.stop()
        await smtp.stop()
        sink.stop()
        with contextlib.suppress(Exception):
            await mailbox.delete()
        with contextlib.suppress(Exception):
            await database.drop()
    startups = [s for gw in gateways for s in gw.startup_seconds]
    return {
        "scenario": asdict(scenario),
        **figures,
        "faults": {**state.faults, "sigkills": sum(gw.kills for gw in gateways),
                   "imap_connections_cut": imap.cuts, "smtp_connections_cut": smtp.cuts,
                   "imap_transfers_cut": imap.transfer_cuts,
                   "smtp_transfers_cut": smtp.transfer_cuts,
                   # seconds into the fault schedule: spread over the run, not its start
                   "imap_transfer_cuts_at_s": _offsets(imap.transfer_cut_at, state),
                   "smtp_transfer_cuts_at_s": _offsets(smtp.transfer_cut_at, state),
                   "imap_connections": imap.connections,
                   "imap_connections_open_at_once": imap.peak_open,
                   "smtp_connections": smtp.connections},
        "timeline": state.timeline,
        "gateway_crashes": sum(gw.crashes for gw in gateways),
        "errors": state.errors,
        "harness_incidents": mailbox.incidents,  # retried harness hiccups, not faults
        "startup_s_max": round(max(startups), 2) if startups else None,
        "seconds": round(time.monotonic() - began, 1),
    }


def _offsets(moments: list[float], state: Run) -> list[float]:
    return [round(at - state.faults_began, 1) for at in moments]


def _recorder(state: Run) -> Any:
    def record(message_id: str, at: float) -> None:
        state.ledger.delivered[message_id] = at

    return record


async def _start_all(state: Run) -> None:
    """Replicas start together, as after a deployment (the second one must not crash)."""
    results = await asyncio.gather(*(gw.start() for gw in state.gateways),
                                   return_exceptions=True)
    for gw, result in zip(state.gateways, results, strict=True):
        if isinstance(result, BaseException):
            state.errors.append(f"{gw.name} start: {str(result)[:300]}")
            await gw.kill()
            gw.new_port()  # another process may have taken it (a shared machine)
            await gw.start()  # a second try: the run measures the rest


async def _warm_up(state: Run, tag: str) -> None:
    """One machine mail through each fresh gateway before the count starts, so that the
    figures measure faults, not the first mail's model loading (the baseline does it too)."""
    await state.mailbox.append(warm_up_mail(tag, 0))
    wanted = f"<warmup.{tag}.0@customer.test>"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(i.message_id == wanted for i in await state.database.ingested()):
            return
        await asyncio.sleep(0.3)
    state.errors.append("warm-up mail not ingested within 120 s")


async def _settle(state: Run) -> None:
    """Until every mail is in and answered, or `settle` seconds passed without that."""
    if await complete(state, state.scenario.settle):
        # A duplicate would arrive now: one lease after a send left leased (and a poll).
        lease = float(state.scenario.outbox.get("lease_seconds", 0.0))
        await asyncio.sleep(max(2.0, 2 * lease))


async def _sample_health(state: Run) -> None:
    """Once a second: does `/readyz` call the e-mail channel healthy, and is it?"""
    while True:
        await asyncio.sleep(1.0)
        ingested = {i.message_id for i in await state.database.ingested()}
        state.ledger.up = union([i for gw in state.gateways for i in gw.up])
        waiting = state.ledger.waiting(ingested, time.time())
        for gw in state.gateways:
            if not gw.running:
                continue
            ready = await gw.readyz()
            email = (ready or {}).get("checks", {}).get("connectors", {}).get("email", {})
            if email.get("state") == "standby":
                continue  # another replica reads the mailbox: its word is the one to judge
            state.ledger.health.append(HealthSample(time.time(), bool(email.get("ok")),
                                                    waiting, str(email.get("state", ""))))
