"""What the bot could not answer: the hand-offs where the knowledge base fell short, the
customer's question behind each, what the bot tried, and what the operator then replied.

Three kinds of hand-off are gaps: "no confident answer" (and "none of the choices" after a
clarifying question), "that didn't help" (the button or the words), and a request for a
person right after an answer. A request for a person with no answer before it is not: the
customer never gave the bot a chance. Reading is bounded (`MAX_GAPS` newest hand-offs of the
period, a few messages around each); the clustering runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.directory import credentials
from gateway.models import Message
from gateway.reports.sql import json_text
from gateway.store import Store, codec
from knowledge_base.clusters import cluster
from knowledge_base.index import Matcher
from knowledge_base.signals import MAX_SIGNAL_CHARS, negative_feedback, wants_human

#: Hand-offs one report reads at most (the newest of the period).
MAX_GAPS = 500
#: Messages before a hand-off read to find the question and the answer it follows.
CONTEXT = 12
#: What a cluster shows at most.
EXAMPLES, REPLIES = 10, 3

NO_ANSWER = ("no confident answer", "none of the choices")
DID_NOT_HELP = "answer did not help"
HUMAN = "asked for a human"
REASONS = (*NO_ANSWER, DID_NOT_HELP, HUMAN)


@dataclass(frozen=True)
class Gap:
    handoff_id: int
    conversation_id: int
    ticket_id: int | None
    language: str
    reason: str
    question: str
    article_id: str | None
    confidence: float | None
    reply: str | None
    at: datetime


@dataclass(frozen=True)
class Cluster:
    key: str
    language: str
    count: int
    questions: list[str]
    reasons: dict[str, int]
    article_id: str | None
    confidence: float | None
    replies: list[str]
    tickets: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class GapReport:
    since: datetime
    gaps: int
    #: True when the period had more gaps than one report reads (the newest were read).
    truncated: bool
    clusters: list[Cluster]


async def find_gaps(store: Store, since: datetime, limit: int = MAX_GAPS
                    ) -> tuple[list[Gap], bool]:
    """The gaps among the newest `limit` hand-offs since `since`, newest first, and whether
    the period had more such hand-offs than that.

    Three statements whatever the number of hand-offs: the hand-offs with the operator's
    first reply after each, the `CONTEXT` messages before each, and the tickets' recorded
    attempts (on PostgreSQL each round trip costs, and 500 hand-offs made 1,500 of them)."""
    reason = json_text("h.meta", "reason", store.db.dialect)
    marks = ", ".join("?" for _ in REASONS)
    rows = await store.db.fetchall(
        f"SELECT h.id, h.conversation_id, h.meta, h.created_at, c.language,"
        " (SELECT r.text FROM messages r WHERE r.conversation_id = h.conversation_id"
        "  AND r.id > h.id AND r.author = 'operator' ORDER BY r.id LIMIT 1) AS reply"
        " FROM messages h JOIN conversations c ON c.id = h.conversation_id"
        f" WHERE h.kind = 'handoff' AND h.created_at >= ? AND {reason} IN ({marks})"
        " ORDER BY h.created_at DESC, h.id DESC LIMIT ?", codec.ts(since), *REASONS, limit + 1)
    kept = rows[:limit]
    before = await _contexts(store, [int(r["id"]) for r in kept])
    metas = {int(r["id"]): json.loads(r["meta"] or "{}") for r in kept}
    attempts = await _attempts(store, [m["ticket_id"] for m in metas.values()
                                       if isinstance(m.get("ticket_id"), int)])
    gaps = []
    for row in kept:
        meta = metas[int(row["id"])]
        ticket_id = meta.get("ticket_id")
        gap = _gap(row, meta, before.get(int(row["id"]), []),
                   attempts.get(ticket_id) if isinstance(ticket_id, int) else None)
        if gap is not None:
            gaps.append(gap)
    return gaps, len(rows) > limit


async def _contexts(store: Store, ids: list[int]) -> dict[int, list[Message]]:
    """The `CONTEXT` messages before each hand-off, oldest first: each hand-off's window
    starts at the id `CONTEXT` messages back (one probe of `messages (conversation_id, id)`),
    so no conversation is read further back than that."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = await store.db.fetchall(
        "SELECT m.*, h.id AS gap_id FROM messages h JOIN messages m"
        " ON m.conversation_id = h.conversation_id AND m.id < h.id"
        " AND m.id >= COALESCE((SELECT p.id FROM messages p"
        "  WHERE p.conversation_id = h.conversation_id AND p.id < h.id"
        "  ORDER BY p.id DESC LIMIT 1 OFFSET ?), 0)"
        f" WHERE h.id IN ({marks}) ORDER BY h.id, m.id", CONTEXT - 1, *ids)
    found: dict[int, list[Message]] = {}
    for row in rows:
        found.setdefault(int(row["gap_id"]), []).append(codec.message(row))
    return found


async def _attempts(store: Store, ticket_ids: list[int]) -> dict[int, list[Any]]:
    """The bot's recorded attempts of each ticket, by ticket id."""
    wanted = sorted(set(ticket_ids))
    if not wanted:
        return {}
    rows = await store.db.fetchall(
        f"SELECT id, bot_attempts FROM tickets WHERE id IN ({', '.join('?' for _ in wanted)})",
        *wanted)
    return {int(r["id"]): json.loads(r["bot_attempts"] or "[]") for r in rows}


def _gap(row: dict[str, Any], meta: dict[str, Any], before: list[Message],
         attempts: list[Any] | None) -> Gap | None:
    reason, ticket_id = str(meta.get("reason")), meta.get("ticket_id")
    episode = _episode(before)
    answer = next((m for m in reversed(episode) if m.kind == "answer"), None)
    if reason == HUMAN and answer is None:
        return None  # asked for a person straight away: no answer fell short
    # the question is the one the answer (or the clarifying question) replied to
    anchor = answer if reason in (DID_NOT_HELP, HUMAN) else None
    if reason == "none of the choices":
        anchor = next((m for m in reversed(episode) if m.kind == "clarify"), None)
    question = _question(episode, anchor)
    if question is None:
        return None
    article_id, confidence = (
        (str(answer.meta.get("article_id") or "") or None, _number(answer.meta.get("confidence")))
        if answer else _tried(attempts or [], reason))
    reply = row["reply"]
    return Gap(int(row["id"]), int(row["conversation_id"]),
               int(ticket_id) if isinstance(ticket_id, int) else None,
               str(row["language"] or "en"), reason, question, article_id, confidence,
               str(reply) if reply is not None else None, codec.parse_ts(row["created_at"]))


def _episode(messages: list[Message]) -> list[Message]:
    """The messages since people last had the conversation (gateway.bot.handoff_context)."""
    start = 0
    for index, message in enumerate(messages):
        if message.direction == "outbound" and (message.author != "bot"
                                                or message.kind == "handoff"):
            start = index + 1
    return messages[start:]


def _question(episode: list[Message], anchor: Message | None) -> str | None:
    """The customer's last question before `anchor` (the answer or the clarifying question;
    None: before the hand-off): not "that didn't help" or "a person, please", never one
    that answered the identity question."""
    cut = episode.index(anchor) if anchor is not None else len(episode)
    for message in reversed(episode[:cut]):
        text = message.text[:MAX_SIGNAL_CHARS]
        if message.direction == "inbound" and text.strip() and credentials(text) is None \
                and not negative_feedback(text) and not wants_human(text):
            return " ".join(message.text.split())[:500]
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _tried(attempts: list[Any], reason: str) -> tuple[str | None, float | None]:
    """The best candidate the bot had, from the ticket it opened for this hand-off."""
    if not attempts or attempts[0].get("reason") != reason:
        return None, None  # a reopened ticket: its attempts are another hand-off's
    for attempt in attempts:
        candidates = attempt.get("candidates") or []
        if attempt.get("decision") != "answer given" and candidates:
            best = candidates[0]
            return str(best.get("article_id")), _number(best.get("confidence"))
    return None, None


def clusters(matcher: Matcher, gaps: list[Gap]) -> list[Cluster]:
    """Gaps grouped per language into clusters of similar questions, biggest first (CPU:
    call it in a worker thread)."""
    found: list[Cluster] = []
    for language in sorted({g.language for g in gaps}):
        mine = [g for g in gaps if g.language == language]
        labels = cluster(matcher.featurizer, [g.question for g in mine], language)
        for number in range(max(labels, default=-1) + 1):
            members = [g for g, label in zip(mine, labels, strict=True) if label == number]
            found.append(_summary(f"{language}-{number + 1}", language, members))
    return sorted(found, key=lambda c: (-c.count, c.key))


def _summary(key: str, language: str, members: list[Gap]) -> Cluster:
    members = sorted(members, key=lambda g: (g.at, g.handoff_id))  # in the order asked
    tried = Counter(g.article_id for g in members if g.article_id)
    surest = {a: max((g.confidence or 0.0) for g in members if g.article_id == a) for a in tried}
    article = max(tried, key=lambda a: (tried[a], surest[a])) if tried else None
    sure = [g.confidence for g in members if g.article_id == article and g.confidence is not None]
    return Cluster(
        key, language, len(members),
        list(dict.fromkeys(g.question for g in members))[:EXAMPLES],
        dict(Counter(g.reason for g in members)), article,
        round(sum(sure) / len(sure), 3) if sure else None,
        list(dict.fromkeys(g.reply for g in members if g.reply))[:REPLIES],
        sorted({g.ticket_id for g in members if g.ticket_id})[:EXAMPLES])


async def gap_report(store: Store, matcher: Matcher, since: datetime) -> GapReport:
    gaps, truncated = await find_gaps(store, since)
    return GapReport(since, len(gaps), truncated,
                     await asyncio.to_thread(clusters, matcher, gaps))
