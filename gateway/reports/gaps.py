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
    the period had more such hand-offs than that."""
    reason = json_text("h.meta", "reason", store.db.dialect)
    marks = ", ".join("?" for _ in REASONS)
    rows = await store.db.fetchall(
        f"SELECT h.id, h.conversation_id, h.meta, h.created_at, c.language FROM messages h"
        " JOIN conversations c ON c.id = h.conversation_id"
        f" WHERE h.kind = 'handoff' AND h.created_at >= ? AND {reason} IN ({marks})"
        " ORDER BY h.created_at DESC, h.id DESC LIMIT ?", codec.ts(since), *REASONS, limit + 1)
    gaps = []
    for row in rows[:limit]:
        gap = await _gap(store, row)
        if gap is not None:
            gaps.append(gap)
    return gaps, len(rows) > limit


async def _gap(store: Store, row: dict[str, Any]) -> Gap | None:
    meta = json.loads(row["meta"] or "{}")
    reason, ticket_id = str(meta.get("reason")), meta.get("ticket_id")
    before = [codec.message(r) for r in await store.db.fetchall(
        "SELECT * FROM messages WHERE conversation_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
        row["conversation_id"], row["id"], CONTEXT)][::-1]
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
    article_id, confidence = (str(answer.meta.get("article_id") or "") or None,
                              _number(answer.meta.get("confidence"))) if answer else \
        await _tried(store, ticket_id, reason)
    reply = await store.db.fetchone(
        "SELECT text FROM messages WHERE conversation_id = ? AND id > ? AND author = 'operator'"
        " ORDER BY id LIMIT 1", row["conversation_id"], row["id"])
    return Gap(int(row["id"]), int(row["conversation_id"]),
               int(ticket_id) if isinstance(ticket_id, int) else None,
               str(row["language"] or "en"), reason, question, article_id, confidence,
               str(reply["text"]) if reply else None, codec.parse_ts(row["created_at"]))


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


async def _tried(store: Store, ticket_id: Any, reason: str) -> tuple[str | None, float | None]:
    """The best candidate the bot had, from the ticket it opened for this hand-off."""
    if not isinstance(ticket_id, int):
        return None, None
    row = await store.db.fetchone("SELECT bot_attempts FROM tickets WHERE id = ?", ticket_id)
    attempts = json.loads(row["bot_attempts"]) if row else []
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
