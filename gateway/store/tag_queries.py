"""The store's tag half: tags on tickets, the desk's known tags, and their audit events."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence

from gateway.models import utcnow
from gateway.store import codec
from gateway.store.db import Database

#: Known tags offered in filters and suggestions, at most.
MAX_KNOWN = 500


class TagQueries:
    db: Database

    async def known_tags(self) -> list[str]:
        """Every tag the desk has used (the small `tags` table, not the tickets' history)."""
        rows = await self.db.fetchall("SELECT name FROM tags ORDER BY name LIMIT ?", MAX_KNOWN)
        return [str(row["name"]) for row in rows]

    async def tags_of(self, ticket_ids: Collection[int]) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {ticket_id: [] for ticket_id in ticket_ids}
        if not ticket_ids:
            return found
        rows = await self.db.fetchall(
            "SELECT ticket_id, tag FROM ticket_tags WHERE ticket_id IN"
            f" ({', '.join('?' for _ in ticket_ids)}) ORDER BY tag", *ticket_ids)
        for row in rows:
            found[int(row["ticket_id"])].append(str(row["tag"]))
        return found

    async def change_tags(self, ticket_id: int, actor: str, add: Sequence[str],
                          remove: Sequence[str]) -> tuple[list[str], list[str]]:
        """Add and remove tags in one transaction with one `ticket.tagged` event naming what
        changed (nothing changed: no event); return the tags really added and removed."""
        now = codec.ts(utcnow())
        added, removed = [], []
        async with self.db.transaction() as tx:
            ticket = await tx.fetchone("SELECT conversation_id FROM tickets WHERE id = ?",
                                       ticket_id)
            if ticket is None:
                raise LookupError(f"no ticket {ticket_id}")
            for tag in add:
                await tx.execute("INSERT INTO tags (name, created_at) VALUES (?, ?)"
                                 " ON CONFLICT (name) DO NOTHING", tag, now)
                if await tx.execute("INSERT INTO ticket_tags (ticket_id, tag, created_at)"
                                    " VALUES (?, ?, ?) ON CONFLICT (ticket_id, tag) DO NOTHING",
                                    ticket_id, tag, now):
                    added.append(tag)
            for tag in remove:
                if await tx.execute("DELETE FROM ticket_tags WHERE ticket_id = ? AND tag = ?",
                                    ticket_id, tag):
                    removed.append(tag)
            if added or removed:
                await tx.execute("UPDATE tickets SET updated_at = ? WHERE id = ?", now, ticket_id)
                await tx.execute(
                    "INSERT INTO events (conversation_id, ticket_id, actor, type, data,"
                    " created_at) VALUES (?, ?, ?, 'ticket.tagged', ?, ?)",
                    ticket["conversation_id"], ticket_id, actor,
                    json.dumps({"added": added, "removed": removed}), now)
        return added, removed

    async def tag_count(self, ticket_id: int) -> int:
        row = await self.db.fetchone("SELECT COUNT(*) AS n FROM ticket_tags WHERE ticket_id = ?",
                                     ticket_id)
        return int(row["n"]) if row else 0


def known_tags_column(dialect: str) -> str:
    """`known_tags` as one column of another SELECT (its one `?` is `MAX_KNOWN`): the names
    joined by commas, which a tag never holds (`gateway.tags`), in `known_tags`' order;
    `known_tags_of` reads it back."""
    joined = ("string_agg(k.name, ',' ORDER BY k.name)" if dialect == "postgresql"
              else "group_concat(k.name, ',')")
    return f"(SELECT {joined} FROM (SELECT name FROM tags ORDER BY name LIMIT ?) k)"


def known_tags_of(value: object, dialect: str) -> list[str]:
    """The list of `known_tags_column`'s value (SQLite's `group_concat` promises no order:
    sorted here, by code point as SQLite's own `ORDER BY name` does)."""
    names = str(value).split(",") if value else []
    return names if dialect == "postgresql" else sorted(names)
