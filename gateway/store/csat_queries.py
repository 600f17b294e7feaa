"""CSAT figures for reports and dashboards: answered surveys grouped per queue or per
operator over a period, computed in SQL on both engines (the `csat_answered` index keeps
the period's range read to the answers in it)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from gateway.models import CsatFigures
from gateway.store import codec
from gateway.store.queries_base import Queries

#: A score at or above this (of 5) counts as satisfied: the usual CSAT definition.
SATISFIED_FROM = 4


class CsatQueries(Queries):
    async def csat_per_group(self, by: Literal["queue", "operator"], since: datetime,
                             until: datetime, queue: str | None = None) -> list[CsatFigures]:
        """CSAT per queue or per operator for answers given in [since, until), optionally
        within one queue. Groups sorted by key; an operator group's key is the operator's
        username ("" for tickets nobody was assigned)."""
        where, args = "s.status = 'answered' AND s.answered_at >= ? AND s.answered_at < ?", [
            codec.ts(since), codec.ts(until)]
        if queue is not None:
            where, args = where + " AND s.queue = ?", [*args, queue]
        if by == "queue":
            key, join = "s.queue", ""
        else:
            key, join = ("COALESCE(o.username, '')",
                         " LEFT JOIN operators o ON o.id = s.operator_id")
        rows = await self.db.fetchall(
            f"SELECT {key} AS k, COUNT(*) AS n, AVG(s.score * 1.0) AS mean,"
            f" SUM(CASE WHEN s.score >= ? THEN 1 ELSE 0 END) AS happy"
            f" FROM csat_surveys s{join} WHERE {where} GROUP BY {key} ORDER BY {key}",
            SATISFIED_FROM, *args,
        )
        return [CsatFigures(key=str(r["k"]), answers=int(r["n"]), average=float(r["mean"]),
                            satisfied=int(r["happy"])) for r in rows]
