"""The exactly-once ledger of one run, from three independent witnesses.

Delivered mails (the harness APPENDed them, with their time), ingested rows (the
gateway's database, read with plain SQL) and delivered replies (the SMTP sink, matched to
customer mails by In-Reply-To). Every customer mail of a run asks a question the
knowledge base answers, so each must be ingested once and answered once.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.faults.db import Ingested
from tests.faults.sink import Delivered

#: A mail waiting longer than this between delivery and ingestion is a stall (issue 11).
STALL_SECONDS = 60.0


@dataclass
class HealthSample:
    """What `/readyz` said about the e-mail channel at `at`, and what was true then."""

    at: float
    says_ok: bool
    oldest_waiting: float  # seconds the oldest delivered, not yet ingested mail has waited
    #: The channel's own `state` (`behind` or `stuck` past its `max_waiting_seconds`).
    state: str = ""


@dataclass
class Ledger:
    delivered: dict[str, float] = field(default_factory=dict)  # Message-ID -> time.time()
    health: list[HealthSample] = field(default_factory=list)
    #: When at least one gateway process was up and ready: (since, until or None).
    up: list[tuple[float, float | None]] = field(default_factory=list)
    #: When no gateway could read the mailbox, whatever it did: the IMAP server
    #: unreachable (an outage), the mailbox deleted and being filled again (a reset).
    unavailable: list[tuple[float, float]] = field(default_factory=list)

    def waited(self, since: float, until: float) -> float:
        """Seconds of [since, until] during which a gateway was up and the mailbox there
        to read: a mail waiting while no process runs (killed, restarting) or while the
        server is away is an outage, not a stall."""
        total = 0.0
        for start, end in self.up:
            low, high = max(since, start), min(until, end if end is not None else until)
            if high <= low:
                continue
            total += high - low
            for away_from, away_until in self.unavailable:
                total -= max(0.0, min(high, away_until) - max(low, away_from))
        return max(0.0, total)

    def waiting(self, ingested: set[str], now: float) -> float:
        """How long the oldest delivered mail not yet ingested has waited (0: none)."""
        pending = [at for mid, at in self.delivered.items() if mid not in ingested]
        return self.waited(min(pending), now) if pending else 0.0


def union(intervals: list[list[float | None]]) -> list[tuple[float, float | None]]:
    """Merge the up-intervals of several replicas into "at least one was up"."""
    merged: list[tuple[float, float | None]] = []
    for start, end in sorted((i[0], i[1]) for i in intervals if i[0] is not None):
        assert start is not None
        if merged:
            last_start, last_end = merged[-1]
            if last_end is None or start <= last_end:
                merged[-1] = (last_start, None if last_end is None or end is None
                              else max(last_end, end))
                continue
        merged.append((start, end))
    return merged


def _seconds(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 2),
            "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
            "max": round(ordered[-1], 2)}


def _down_seconds(up: list[tuple[float, float | None]], since: float, until: float) -> float:
    covered = sum(max(0.0, min(until, e if e is not None else until) - max(since, s))
                  for s, e in up)
    return max(0.0, until - since - covered)


def _by_minute(delivered: dict[str, float], waits: dict[str, float],
               began: float) -> list[list[float]]:
    """[minute into the schedule, mails delivered in it, of those stalled, longest wait s]
    per minute of delivery: where in the run the stalls were (with the run's timeline)."""
    rows: dict[int, list[float]] = {}
    for mid, at in delivered.items():
        row = rows.setdefault(int((at - began) // 60), [0, 0, 0.0])
        row[0] += 1
        row[1] += waits[mid] > STALL_SECONDS
        row[2] = max(row[2], round(waits[mid], 1))
    return [[minute, *rows[minute]] for minute in sorted(rows)]


def account(ledger: Ledger, ingested: list[Ingested], replies: list[Delivered],
            quarantined: int, end: float, began: float | None = None) -> dict[str, Any]:
    """The figures of issue 11, as one JSON-able dict; `began` (the fault schedule's
    start) adds the stalls per minute of delivery."""
    delivered = ledger.delivered
    rows = Counter(i.message_id for i in ingested)
    first_row: dict[str, float] = {}
    for item in sorted(ingested, key=lambda i: i.at):
        first_row.setdefault(item.message_id, item.at)
    by_parent: dict[str, list[Delivered]] = {}
    for reply in replies:
        by_parent.setdefault(reply.in_reply_to, []).append(reply)
    counts = Counter(len(by_parent.get(mid, [])) for mid in delivered)
    twice = [mid for mid in delivered if len(by_parent.get(mid, [])) > 1]
    same_id_twice = sum(1 for mid in twice
                        if len({r.message_id for r in by_parent[mid]}) < len(by_parent[mid]))
    ingest_latency = [first_row[mid] - at for mid, at in delivered.items() if mid in first_row]
    waits = {mid: ledger.waited(at, first_row.get(mid, end)) for mid, at in delivered.items()}
    ingest_waits = list(waits.values())
    reply_latency = [min(r.at for r in by_parent[mid]) - at for mid, at in delivered.items()
                     if mid in by_parent]
    # what a customer waits for the answer while the gateway runs (restarts not counted)
    reply_waits = [ledger.waited(at, min(r.at for r in by_parent[mid]))
                   for mid, at in delivered.items() if mid in by_parent]
    lying = [s for s in ledger.health if s.says_ok and s.oldest_waiting > STALL_SECONDS]
    return {
        "mails_delivered": len(delivered),
        "ingested_once": sum(1 for mid in delivered if rows[mid] == 1),
        "lost": sum(1 for mid in delivered if rows[mid] == 0) - quarantined,
        "quarantined": quarantined,
        "duplicated": sum(1 for mid in delivered if rows[mid] > 1),
        "replies_expected": len(delivered),
        "sent_once": counts[1],
        "sent_twice": len(twice),
        "sent_twice_same_message_id": same_id_twice,
        "never_sent": counts[0],
        "replies_to_unknown_mail": sum(len(v) for k, v in by_parent.items()
                                       if k not in delivered),
        # waited over 60 s for ingestion while a gateway was up (or never taken in)
        "stalls_over_60s": sum(1 for s in ingest_waits if s > STALL_SECONDS),
        "gateway_down_s": round(_down_seconds(ledger.up, min(delivered.values(), default=end),
                                              end), 1),
        "mailbox_unavailable_s": round(sum(b - a for a, b in ledger.unavailable), 1),
        "readyz_ok_while_stalled_samples": len(lying),
        # what the channel called itself while a mail had waited over 60 s: `behind`
        # (working, too slow) and `stuck` (hung) are told apart by the gateway itself
        "readyz_states_while_stalled": dict(Counter(
            s.state for s in ledger.health if s.oldest_waiting > STALL_SECONDS)),
        "examples": {  # a few Message-IDs per failure, for the post-mortem
            "lost": [mid for mid in delivered if rows[mid] == 0][:5],
            "never_sent": [mid for mid in delivered if mid not in by_parent][:5],
            "sent_twice": twice[:5],
        },
        "ingest_latency_s": _seconds(ingest_latency),
        "reply_latency_s": _seconds(reply_latency),
        "reply_wait_up_s": _seconds(reply_waits),
        **({"stalls_by_minute": _by_minute(delivered, waits, began)}
           if began is not None and delivered else {}),
    }
