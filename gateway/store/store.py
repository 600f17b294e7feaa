"""The store: the one async interface the gateway persists through.

It holds the SQL once and runs it on either driver (`SqliteDatabase` or `PostgresDatabase`);
the same contract tests run against both. Every change to a conversation or a ticket
writes an event in the same transaction, so the audit trail cannot miss a change.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterable
from typing import Any

from gateway import signed_links
from gateway.models import utcnow
from gateway.store import codec
from gateway.store.callback_queries import CallbackQueries
from gateway.store.campaign_queries import CampaignQueries
from gateway.store.collision_queries import CollisionQueries
from gateway.store.csat_queries import CsatQueries
from gateway.store.db import Database
from gateway.store.follow_up_queries import FollowUpQueries
from gateway.store.lease_queries import LeaseQueries
from gateway.store.message_queries import MessageQueries
from gateway.store.metrics_queries import MetricsQueries
from gateway.store.migrations import MIGRATIONS, statements
from gateway.store.migrations_api import MIGRATIONS_API
from gateway.store.migrations_attachments import MIGRATIONS_ATTACHMENTS
from gateway.store.migrations_console import MIGRATIONS_CONSOLE
from gateway.store.migrations_csat import MIGRATIONS_CSAT
from gateway.store.migrations_follow_up import MIGRATIONS_FOLLOW_UP
from gateway.store.migrations_i18n import MIGRATIONS_I18N
from gateway.store.migrations_indexes import MIGRATIONS_INDEXES
from gateway.store.migrations_leases import MIGRATIONS_LEASES
from gateway.store.migrations_outbox import MIGRATIONS_OUTBOX
from gateway.store.migrations_outreach import MIGRATIONS_OUTREACH
from gateway.store.migrations_reports import MIGRATIONS_REPORTS
from gateway.store.migrations_sessions import MIGRATIONS_SESSIONS
from gateway.store.migrations_sla import MIGRATIONS_SLA
from gateway.store.migrations_workspace import MIGRATIONS_WORKSPACE
from gateway.store.notification_queries import NotificationQueries
from gateway.store.operator_queries import OperatorQueries
from gateway.store.outbox_queries import OutboxQueries
from gateway.store.outreach_queries import OutreachQueries
from gateway.store.people_queries import PeopleQueries
from gateway.store.queries_base import marks
from gateway.store.search_queries import SearchQueries
from gateway.store.split_queries import SplitQueries
from gateway.store.survey_queries import SurveyQueries
from gateway.store.tag_queries import TagQueries
from gateway.store.ticket_queries import TicketQueries


class Store(PeopleQueries, MessageQueries, LeaseQueries, SplitQueries, TicketQueries,
            OperatorQueries, OutboxQueries, SearchQueries, CollisionQueries, TagQueries,
            MetricsQueries, SurveyQueries, CsatQueries, OutreachQueries, FollowUpQueries,
            CallbackQueries, CampaignQueries, NotificationQueries):
    """One class, one interface: the query mixins each hold one domain's SQL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        await self.db.open()
        await self.migrate()

    async def close(self) -> None:
        await self.db.close()

    def unit(self) -> contextlib.AbstractAsyncContextManager[None]:
        """One unit of work (a message): every statement of this task on one held
        connection, its transactions deferring their merged updates and events to the
        commit (see `gateway/store/unit.py`)."""
        return self.db.unit()

    async def ping(self) -> None:
        """Raise `StoreUnavailable` when the database does not answer."""
        await self.db.fetchone("SELECT 1 AS ok")

    async def migrate(self) -> list[int]:
        """Apply pending migrations; return the versions applied now."""
        applied: list[int] = []
        async with self.db.transaction() as tx:
            if self.db.dialect == "postgresql":
                # Two replicas starting together must not both migrate.
                await tx.execute("SELECT pg_advisory_xact_lock(4242)")
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " applied_at TEXT NOT NULL)"
            )
            rows = await tx.fetchall("SELECT version FROM schema_migrations")
            done = {row["version"] for row in rows}
            for version, sql in (MIGRATIONS + MIGRATIONS_SLA + MIGRATIONS_ATTACHMENTS
                                 + MIGRATIONS_OUTBOX + MIGRATIONS_API + MIGRATIONS_SESSIONS
                                 + MIGRATIONS_CONSOLE + MIGRATIONS_LEASES
                                 + MIGRATIONS_INDEXES + MIGRATIONS_REPORTS
                                 + MIGRATIONS_CSAT + MIGRATIONS_OUTREACH
                                 + MIGRATIONS_FOLLOW_UP + MIGRATIONS_I18N
                                 + MIGRATIONS_WORKSPACE):
                if version in done:
                    continue
                for statement in statements(sql, self.db.dialect):
                    await tx.execute(statement)
                await tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    version, codec.ts(utcnow()),
                )
                applied.append(version)
        return applied
    # -- connector state and deduplication -----------------------------------------------------

    async def get_state(self, key: str) -> Any:
        row = await self.db.fetchone("SELECT value FROM connector_state WHERE key = ?", key)
        return json.loads(row["value"]) if row else None

    async def get_states(self, keys: Iterable[str]) -> dict[str, Any]:
        """Several `get_state` in one statement: the keys that exist, with their values."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        rows = await self.db.fetchall(
            f"SELECT key, value FROM connector_state WHERE key IN ({marks(wanted)})", *wanted)
        return {row["key"]: json.loads(row["value"]) for row in rows}

    async def link_secret(self) -> str:
        """The installation's secret for signed links (chat continuation, surveys,
        unsubscribe): drawn here, once, by the first replica to ask; the kept one after.
        Never taken from a caller, so no code path can store an empty or known one."""
        await self.db.execute(
            "INSERT INTO connector_state (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO NOTHING", signed_links.SECRET_KEY,
            json.dumps(secrets.token_urlsafe(32)), codec.ts(utcnow()))
        secret = await self.get_state(signed_links.SECRET_KEY)
        assert isinstance(secret, str)
        return secret

    async def set_state(self, key: str, value: Any) -> None:
        await self.db.execute(
            "INSERT INTO connector_state (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            key, json.dumps(value), codec.ts(utcnow()),
        )

    async def delete_state(self, keys: Iterable[str]) -> int:
        """Forget these state keys altogether (not `set_state(key, None)`, which keeps the
        row); return how many existed."""
        removed = 0
        async with self.db.transaction() as tx:
            for key in keys:
                removed += await tx.execute("DELETE FROM connector_state WHERE key = ?", key)
        return removed

    async def first_time(self, source: str, key: str) -> bool:
        """True exactly once per (source, key), across replicas (e.g. a Slack event_id)."""
        changed = await self.db.execute(
            "INSERT INTO dedup (source, key, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            source, key, codec.ts(utcnow()),
        )
        return changed == 1
