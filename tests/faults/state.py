"""What a fault run is made of: its `Scenario` (the knobs) and its `Run` (the live parts
the injectors act on), and `complete`, the wait for "every mail in and answered"."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

from tests.faults.accounting import Ledger
from tests.faults.db import Database
from tests.faults.gateway_proc import GatewayProcess
from tests.faults.mailboxes import Mailbox
from tests.faults.proxy import TcpProxy
from tests.faults.sink import SmtpSink


@dataclass
class Scenario:
    name: str
    mails: int = 30
    rate: float = 10.0  # mails per second into the mailbox
    database: str = "sqlite"  # or "postgresql"
    replicas: int = 1
    kills: int = 0  # SIGKILLs of a random replica, each followed by a restart
    kill_downtime: float = 0.5
    #: "random": at any moment, also mid-pipeline or mid-send; "quiet": delivery paused and
    #: every mail so far answered (the crash between two mails, mail piling up meanwhile);
    #: "after-250": the SMTP server has answered 250 to a reply's DATA, QUIT is pending.
    #: "mid-mail": deliveries paused, every mail so far answered, then one more mail; the
    #: fault falls once it is stored and not yet handled (its claim is held).
    #: "holder": the replica that holds the mailbox lease, at a random moment; the run
    #: measures how long until another replica reads the mailbox (`lease_takeover_s`).
    #: "quiet" and "mid-mail" also apply to `pg_kills`, and one more to them only:
    #: "marking-sent": the SMTP server took a reply and the gateway's UPDATE that marks
    #: it sent is in flight (held by a lock on the outbox) when its connections die.
    kill_at: str = "random"
    imap_cuts: int = 0  # TCP resets of a random open IMAP connection
    imap_byes: int = 0  # graceful server stops: BYE and close on every IMAP connection
    imap_transfer_cuts: int = 0  # resets half-way through a large IMAP answer (FETCH)
    smtp_cuts: int = 0
    imap_outage: float = 0.0  # seconds the IMAP server is unreachable
    smtp_outage: float = 0.0
    uidvalidity_reset: bool = False
    pg_kills: int = 0  # rounds of pg_terminate_backend on the gateway's connections
    backlog: int = 0  # mails already waiting before the gateway's first connection
    settle: float = 40.0  # seconds to wait after the last delivery and fault
    outbox: dict[str, float] = field(default_factory=dict)
    email: dict[str, float] = field(default_factory=dict)  # more `[email]` settings
    user: str = "support"
    seed: int = 11
    log_level: str = "warning"  # of the gateway processes (their logs stay in the workdir)


@dataclass
class Run:
    """Everything a run's injectors act on."""

    scenario: Scenario
    rng: random.Random
    gateways: list[GatewayProcess]
    imap: TcpProxy
    smtp: TcpProxy
    sink: SmtpSink
    mailbox: Mailbox
    database: Database
    ledger: Ledger
    tag: str  # in this run's Message-IDs
    faults: dict[str, Any] = field(default_factory=dict)
    extra_mails: int = 0  # delivered by the injectors (after-250, mid-mail), not `mails`
    errors: list[str] = field(default_factory=list)
    faults_began: float = 0.0  # time.time() when the fault schedule started
    #: [fault, seconds into the schedule, seconds it took], in the order they ended
    timeline: list[list[Any]] = field(default_factory=list)

    @property
    def window(self) -> float:
        """Seconds mail keeps arriving."""
        return self.scenario.mails / self.scenario.rate


async def complete(state: Run, timeout: float) -> bool:
    """Wait until every mail delivered so far is ingested and answered; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ingested = {i.message_id for i in await state.database.ingested()}
        answered = {r.in_reply_to for r in state.sink.received}
        delivered = set(state.ledger.delivered)
        if delivered <= ingested and delivered <= answered:
            return True
        await asyncio.sleep(0.5)
    return False


