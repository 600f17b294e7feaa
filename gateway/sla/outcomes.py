"""Each bot answer's containment, stored (`bot_outcomes`, migration 1740), so the
dashboards' containment section counts stored rows of the period instead of reading a year
of messages, their JSON and a window over every conversation on each page view.

A bot outcome is a message of kind `answer` or `handoff`; an answer is contained unless the
conversation's next outcome is a hand-off (`gateway.reports.dashboards.containment`). A
sweep reads the outcomes of each kind in time order through `messages_kind_created` from a
cursor per kind kept in `connector_state`, a batch at a time, skips those already stored,
and stores each with its article and language; an answer with whether the conversation's
next outcome is already a hand-off, and a hand-off marks the conversation's previous
outcome, when an answer, as not contained. Whichever of the two is stored first, the
answer ends up not contained. Like `gateway.sla.durations` (whose sweep runs beside this
one: in the SLA watcher's round and before a dashboard is drawn), each pass looks again at
the last `MARGIN` before a cursor, and the first passes after the migration fill in the
existing answers.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from gateway.models import utcnow
from gateway.store import Store, codec

CURSOR_KEY = "reports.outcomes_cursor"
#: Messages stamped this long before the cursor may have committed after the last pass.
MARGIN = timedelta(minutes=5)
KINDS = ("answer", "handoff")
_OUTCOME = "n.kind IN ('answer', 'handoff')"
#: Rows per INSERT (six parameters each).
_ROWS = 1000


async def sweep(store: Store, *, batch: int = 1000, max_batches: int = 10) -> int:
    """Store up to `batch` × `max_batches` outcomes of each kind; the number stored."""
    done = 0
    for _ in range(max_batches):
        stored, more = await _one_batch(store, batch)
        done += stored
        if not more:
            break
    return done


async def _one_batch(store: Store, batch: int) -> tuple[int, bool]:
    cursors = dict(await store.get_state(CURSOR_KEY) or {})
    found: list[Any] = []
    more = False
    for kind in KINDS:
        since = cursors.get(kind)
        # an answer's next outcome in its conversation (messages_conversation, in id order)
        following = ("(SELECT n.kind FROM messages n WHERE n.conversation_id = m.conversation_id"
                     f" AND n.id > m.id AND {_OUTCOME} ORDER BY n.id LIMIT 1)"
                     if kind == "answer" else "NULL")
        rows = await store.db.fetchall(
            f"SELECT m.id, m.created_at, m.meta, {following} AS next_kind FROM messages m"
            " LEFT JOIN bot_outcomes o ON o.message_id = m.id"
            " WHERE m.kind = ? AND m.created_at >= ? AND o.message_id IS NULL"
            " ORDER BY m.created_at LIMIT ?",
            kind, codec.ts(codec.parse_ts(str(since)) - MARGIN) if since else "", batch)
        found += [(kind, row) for row in rows]
        more = more or len(rows) == batch
        if rows:
            cursors[kind] = str(rows[-1]["created_at"])
    if not found:
        return 0, more
    values = []
    for kind, row in found:
        meta = _meta(row["meta"])
        values.append((int(row["id"]), kind, str(row["created_at"]),
                       _text(meta.get("article_id")), _text(meta.get("language")),
                       None if kind == "handoff" else int(row["next_kind"] != "handoff")))
    handoffs = [v[0] for v in values if v[1] == "handoff"]
    async with store.db.transaction() as tx:
        for start in range(0, len(values), _ROWS):  # PostgreSQL: under 10,000 parameters
            chunk = values[start:start + _ROWS]
            marks = ", ".join("(CAST(? AS BIGINT), ?, ?, ?, ?, CAST(? AS INTEGER))"
                              for _ in chunk)
            await tx.execute(
                "INSERT INTO bot_outcomes (message_id, kind, created_at, article, language,"
                f" contained) VALUES {marks} ON CONFLICT (message_id) DO NOTHING",
                *[x for v in chunk for x in v])
        if handoffs:  # the answer each hand-off followed is not contained
            ids = ", ".join("CAST(? AS BIGINT)" for _ in handoffs)
            await tx.execute(
                "UPDATE bot_outcomes SET contained = 0 WHERE kind = 'answer' AND message_id IN"
                " (SELECT (SELECT n.id FROM messages n WHERE n.conversation_id = h.conversation_id"
                f" AND n.id < h.id AND {_OUTCOME} ORDER BY n.id DESC LIMIT 1)"
                f" FROM messages h WHERE h.id IN ({ids}))", *handoffs)
        await tx.execute(
            "INSERT INTO connector_state (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at", CURSOR_KEY, json.dumps(cursors),
            codec.ts(utcnow()))
    return len(values), more


def _meta(raw: Any) -> dict[str, Any]:
    try:
        meta = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
