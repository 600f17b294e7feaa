"""The store's operators and their console sessions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from gateway.models import (
    Operator,
    utcnow,
)
from gateway.store import codec
from gateway.store.queries_base import Queries


class OperatorQueries(Queries):
    # -- operators and sessions ----------------------------------------------------------------

    async def create_operator(self, username: str, display_name: str, password_hash: str,
                              role: str, languages: Sequence[str] = (),
                              queues: Sequence[str] = (),
                              if_missing: bool = False) -> Operator:
        """`if_missing`: the existing operator of that name instead of a unique violation
        (the admin bootstrap of replicas starting together)."""
        row = await self.db.fetchone(
            "INSERT INTO operators (username, display_name, password_hash, role, languages,"
            " queues, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            + (" ON CONFLICT (username) DO NOTHING" if if_missing else "") + " RETURNING *",
            username, display_name, password_hash, role, json.dumps(list(languages)),
            json.dumps(list(queues)), codec.ts(utcnow()),
        )
        if row is None and if_missing:
            existing = await self.operator_by_username(username)
            assert existing is not None
            return existing
        assert row is not None
        return codec.operator(row)

    async def set_operator_password(self, operator_id: int, password_hash: str) -> None:
        await self.db.execute("UPDATE operators SET password_hash = ? WHERE id = ?",
                              password_hash, operator_id)

    async def update_operator(self, operator_id: int, *, display_name: str, role: str,
                              languages: Sequence[str], queues: Sequence[str],
                              active: bool) -> Operator:
        row = await self.db.fetchone(
            "UPDATE operators SET display_name = ?, role = ?, languages = ?, queues = ?,"
            " active = ? WHERE id = ? RETURNING *",
            display_name, role, json.dumps(list(languages)), json.dumps(list(queues)),
            int(active), operator_id,
        )
        if row is None:
            raise LookupError(f"no operator {operator_id}")
        return codec.operator(row)

    async def set_operator_locale(self, operator_id: int, locale: str | None) -> None:
        """The console language an operator chose (None: follow the browser)."""
        await self.db.execute("UPDATE operators SET locale = ? WHERE id = ?", locale,
                              operator_id)

    async def delete_sessions_of(self, operator_id: int) -> None:
        """Log an operator out everywhere (deactivated, or their password was reset)."""
        await self.db.execute("DELETE FROM sessions WHERE operator_id = ?", operator_id)

    async def operator_by_username(self, username: str) -> Operator | None:
        row = await self.db.fetchone("SELECT * FROM operators WHERE username = ?", username)
        return codec.operator(row) if row else None

    async def get_operator(self, operator_id: int) -> Operator | None:
        row = await self.db.fetchone("SELECT * FROM operators WHERE id = ?", operator_id)
        return codec.operator(row) if row else None

    async def operators(self) -> list[Operator]:
        return [codec.operator(r) for r in await self.db.fetchall(
            "SELECT * FROM operators ORDER BY username")]

    async def create_session(self, token_hash: str, operator_id: int, csrf_token: str,
                             expires_at: datetime,
                             absolute_expires_at: datetime | None = None) -> None:
        """`expires_at` slides with activity, never past `absolute_expires_at` (default: it)."""
        await self.db.execute(
            "INSERT INTO sessions (token_hash, operator_id, csrf_token, expires_at,"
            " absolute_expires_at) VALUES (?, ?, ?, ?, ?)",
            token_hash, operator_id, csrf_token, codec.ts(expires_at),
            codec.ts(absolute_expires_at or expires_at),
        )

    async def session(self, token_hash: str) -> tuple[int, str, datetime] | None:
        """Operator id, CSRF token and when the session ends (the sooner of both limits)."""
        row = await self.db.fetchone("SELECT * FROM sessions WHERE token_hash = ?", token_hash)
        if row is None:
            return None
        expires = codec.parse_ts(row["expires_at"])
        if row["absolute_expires_at"]:
            expires = min(expires, codec.parse_ts(row["absolute_expires_at"]))
        return row["operator_id"], row["csrf_token"], expires

    async def session_operator(self, token_hash: str
                               ) -> tuple[Operator, str, datetime, tuple[str, int] | None] | None:
        """The session's operator, CSRF token and end, and the presence and capacity the
        operator set (`operator_status`; None: never set), in one statement: every console
        request asks (it was three: the session, its operator, the presence)."""
        row = await self.db.fetchone(
            "SELECT o.*, s.csrf_token, s.expires_at AS session_expires_at,"
            " s.absolute_expires_at AS session_absolute_expires_at,"
            " st.presence AS status_presence, st.capacity AS status_capacity"
            " FROM sessions s JOIN operators o ON o.id = s.operator_id"
            " LEFT JOIN operator_status st ON st.operator_id = o.id"
            " WHERE s.token_hash = ?", token_hash)
        if row is None:
            return None
        expires = codec.parse_ts(row["session_expires_at"])
        if row["session_absolute_expires_at"]:
            expires = min(expires, codec.parse_ts(row["session_absolute_expires_at"]))
        status = (None if row["status_presence"] is None
                  else (str(row["status_presence"]), int(row["status_capacity"])))
        return codec.operator(row), row["csrf_token"], expires, status

    async def extend_session(self, token_hash: str, expires_at: datetime) -> None:
        await self.db.execute("UPDATE sessions SET expires_at = ? WHERE token_hash = ?",
                              codec.ts(expires_at), token_hash)

    async def delete_session(self, token_hash: str) -> None:
        await self.db.execute("DELETE FROM sessions WHERE token_hash = ?", token_hash)
