"""Schema of the operator workspace (issue 16): ticket search (1600), tags (1610), the
SLA banner's index (1620), the tickets changed lately (1630), a customer's searched text in
one trigram index (1640).

Versions start at 1600. Search finds a fragment anywhere in a subject, a customer's name,
e-mail address or customer number, or a message, in any language, so both engines index
trigrams rather than words of one language's dictionary:

- PostgreSQL: GIN trigram indexes (`pg_trgm`), which `ILIKE '%fragment%'` uses. Creating the
  extension needs the right to (it is a trusted extension: the database owner may); where it
  cannot be created the indexes are skipped and search scans instead, slower but correct.
- SQLite: FTS5 tables with the trigram tokenizer (SQLite 3.34+, bundled with Python 3.11),
  over the rows themselves (external content), kept in step by triggers, so an erasure or a
  retention purge that rewrites a message also leaves the index.
"""

from __future__ import annotations

from gateway.store.migrations import Migration

_TRGM_ERRORS = "insufficient_privilege OR undefined_file OR feature_not_supported"

_PG_SEARCH = (
    "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm;"
    f" EXCEPTION WHEN {_TRGM_ERRORS} THEN RAISE NOTICE 'pg_trgm unavailable: search scans';"
    " END $$",
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN"
    " CREATE INDEX tickets_subject_trgm ON tickets USING gin (subject gin_trgm_ops);"
    " CREATE INDEX customers_name_trgm ON customers USING gin (name gin_trgm_ops);"
    " CREATE INDEX customers_email_trgm ON customers USING gin (email gin_trgm_ops);"
    " CREATE INDEX customers_number_trgm ON customers USING gin (number gin_trgm_ops);"
    " CREATE INDEX messages_text_trgm ON messages USING gin (text gin_trgm_ops);"
    " END IF; END $$",
)


def _fts(table: str, source: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    """An FTS5 trigram index over `source`'s `columns`, its triggers, and its first fill."""
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    forget = f"INSERT INTO {table} ({table}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    learn = f"INSERT INTO {table} (rowid, {cols}) VALUES (new.id, {new});"
    return (
        f"CREATE VIRTUAL TABLE {table} USING fts5({cols}, content='{source}',"
        " content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {table}_insert AFTER INSERT ON {source} BEGIN {learn} END",
        f"CREATE TRIGGER {table}_delete AFTER DELETE ON {source} BEGIN {forget} END",
        f"CREATE TRIGGER {table}_update AFTER UPDATE OF {cols} ON {source}"
        f" BEGIN {forget} {learn} END",
        f"INSERT INTO {table} ({table}) VALUES ('rebuild')",
    )


_SQLITE_SEARCH = (_fts("search_tickets", "tickets", ("subject",))
                  + _fts("search_customers", "customers", ("name", "email", "number"))
                  + _fts("search_messages", "messages", ("text",)))

#: Tags on tickets, and the desk's known tags (what the filter offers: a small table, never
#: a DISTINCT over every ticket's tags).
#: A customer's name, e-mail address and customer number as one text (a search word has no
#: space, so it never spans two of them): what `customers_search_trgm` indexes and what search
#: matches. Three indexes ORed made PostgreSQL scan every customer instead (35-130 ms at
#: 33,333 customers, for every search).
CUSTOMER_TEXT = "(name || ' ' || COALESCE(email, '') || ' ' || COALESCE(number, ''))"

_PG_CUSTOMER_SEARCH = (
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN"
    f" CREATE INDEX customers_search_trgm ON customers USING gin ({CUSTOMER_TEXT} gin_trgm_ops);"
    " END IF; END $$",
)

_TAGS = """
CREATE TABLE tags (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE ticket_tags (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    tag TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag)
);
CREATE INDEX ticket_tags_tag ON ticket_tags (tag, ticket_id)
"""

MIGRATIONS_CONSOLE: tuple[tuple[int, Migration], ...] = (
    (1600, {"postgresql": _PG_SEARCH, "sqlite": _SQLITE_SEARCH}),
    (1610, _TAGS),
    # The latest SLA alarm of a ticket in one index probe (the banner on every page).
    (1620, "CREATE INDEX events_sla_alarm ON events (ticket_id, id)"
           " WHERE type IN ('sla.warning', 'sla.breached')"),
    # The tickets changed lately: what the SLA watcher's catch-up before every list reads.
    (1630, "CREATE INDEX tickets_updated ON tickets (updated_at)"),
    # SQLite's search_customers already holds the three columns in one FTS5 row.
    (1640, {"postgresql": _PG_CUSTOMER_SEARCH, "sqlite": ()}),
)
