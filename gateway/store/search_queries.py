"""Ticket search: by number, customer (name, e-mail, customer number), subject and message
text, closed tickets included, in SQL on indexes (`migrations_console`).

Every word of the search must be found somewhere in the ticket (its subject, its customer, a
message of its conversation, or its number), so adding a word narrows the results. A word is
a fragment of at least three characters (what a trigram index can find) or a number; the
results are the newest first, an exact ticket number before them, and never more than
`MAX_HITS` are counted. Only the rarest word's tickets are listed from the indexes; the
other words are checked on those tickets, and a search of common words only reads the newest
tickets until a page is full (`_plan`), so its cost follows what it finds, not the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.ids import parse_id
from gateway.models import Ticket
from gateway.store import codec
from gateway.store.db import Connection, Database
from gateway.store.migrations_console import CUSTOMER_TEXT

#: The shortest fragment searched for: a trigram index cannot find fewer characters.
MIN_FRAGMENT = 3
#: Words of a search taken into account (more only narrow what is already narrow).
MAX_TERMS = 6
#: Matches counted at most; beyond, the page says "more than" and asks for another word.
MAX_HITS = 1000


@dataclass(frozen=True)
class SearchTerm:
    """One word of a search: a text fragment (may be ""), a number it may be, or both."""

    fragment: str
    number: int | None = None


@dataclass(frozen=True)
class SearchHits:
    tickets: list[Ticket]
    #: Matching tickets the operator may see, counted up to MAX_HITS + 1.
    total: int

    @property
    def capped(self) -> bool:
        return self.total > MAX_HITS


def search_terms(query: str) -> tuple[list[SearchTerm], list[str]]:
    """The words of a search box, and those too short to search for. `#123` is a ticket
    number only; `123` a ticket or customer number, and a fragment of text."""
    terms, ignored = [], []
    for word in query.split()[:MAX_TERMS]:
        if word.startswith("#") and parse_id(word[1:]) is not None:
            terms.append(SearchTerm("", parse_id(word[1:])))
            continue
        fragment = word if len(word) >= MIN_FRAGMENT else ""
        number = parse_id(word)
        if fragment or number is not None:
            terms.append(SearchTerm(fragment, number))
        else:
            ignored.append(word)
    return terms, ignored


def _like(fragment: str) -> str:
    """`%fragment%` with LIKE's own wildcards taken literally."""
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(fragment: str) -> str:
    """An FTS5 phrase: with the trigram tokenizer, the fragment anywhere in the text."""
    return '"' + fragment.replace('"', '""') + '"'


class SearchQueries:
    db: Database

    def _term_hits(self, term: SearchTerm) -> tuple[str, list[object]]:
        """The ids of the tickets holding one word, as a compound SELECT."""
        parts: list[str] = []
        args: list[object] = []
        if term.number is not None:
            parts += ["SELECT id FROM tickets WHERE id = ?",
                      "SELECT id FROM tickets WHERE customer_id = ?"]
            args += [term.number, term.number]
        if term.fragment and self.db.dialect == "postgresql":
            like = "ILIKE ? ESCAPE '\\'"
            parts += [
                f"SELECT id FROM tickets WHERE subject {like}",
                "SELECT id FROM tickets WHERE customer_id IN"
                f" (SELECT id FROM customers WHERE {CUSTOMER_TEXT} {like})",
                "SELECT t.id FROM tickets t JOIN messages m ON m.conversation_id ="
                f" t.conversation_id WHERE m.text {like}",
            ]
            args += [_like(term.fragment)] * 3
        elif term.fragment:
            parts += [
                "SELECT rowid AS id FROM search_tickets WHERE search_tickets MATCH ?",
                "SELECT id FROM tickets WHERE customer_id IN"
                " (SELECT rowid FROM search_customers WHERE search_customers MATCH ?)",
                "SELECT t.id FROM tickets t JOIN messages m ON m.conversation_id ="
                " t.conversation_id WHERE m.id IN"
                " (SELECT rowid FROM search_messages WHERE search_messages MATCH ?)",
            ]
            args += [_phrase(term.fragment)] * 3
        return " UNION ".join(parts), args

    def _term_check(self, term: SearchTerm) -> tuple[str, list[object]]:
        """Whether ticket `t` holds one word, checked on that ticket alone: for a word most
        tickets hold, far cheaper than listing every ticket that holds it."""
        parts: list[str] = []
        args: list[object] = []
        if term.number is not None:
            parts += ["t.id = ?", "t.customer_id = ?"]
            args += [term.number, term.number]
        if term.fragment and self.db.dialect == "postgresql":
            like = "ILIKE ? ESCAPE '\\'"
            parts += [f"t.subject {like}",
                      # the ticket's customer by primary key: an EXISTS was hashed over
                      # every customer holding the word (33,333 rows for *Customer*)
                      f"(SELECT {CUSTOMER_TEXT} FROM customers c WHERE c.id = t.customer_id)"
                      f" {like}",
                      "EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id ="
                      f" t.conversation_id AND m.text {like})"]
            args += [_like(term.fragment)] * 3
        elif term.fragment:  # the FTS5 tables, probed by rowid (the ticket's own rows)
            parts += ["EXISTS (SELECT 1 FROM search_tickets f WHERE f.rowid = t.id"
                      " AND search_tickets MATCH ?)",
                      "EXISTS (SELECT 1 FROM search_customers f WHERE f.rowid = t.customer_id"
                      " AND search_customers MATCH ?)",
                      "EXISTS (SELECT 1 FROM messages m JOIN search_messages f ON f.rowid = m.id"
                      " WHERE m.conversation_id = t.conversation_id AND search_messages MATCH ?)"]
            args += [_phrase(term.fragment)] * 3
        return "(" + " OR ".join(parts) + ")", args

    async def _rarity(self, conn: Connection, term: SearchTerm) -> int:
        """How many messages, subjects and customers hold the word, each counted up to
        MAX_HITS (0 for a bare number): cheap either way (an index probe for a rare word, a
        scan that stops at once for a common one). Messages alone made *Customer*, in every
        customer's name and no message, look rare, and its 100,000 tickets were listed."""
        if not term.fragment:
            return 0
        if self.db.dialect == "postgresql":
            like = "ILIKE ? ESCAPE '\\'"
            sources = [f"messages WHERE text {like}", f"tickets WHERE subject {like}",
                       f"customers WHERE {CUSTOMER_TEXT} {like}"]
            arg = _like(term.fragment)
        else:
            sources = [f"{table} WHERE {table} MATCH ?" for table in (
                "search_messages", "search_tickets", "search_customers")]
            arg = _phrase(term.fragment)
        counts = " + ".join(f"(SELECT COUNT(*) FROM (SELECT 1 FROM {source} LIMIT ?) x{n})"
                            for n, source in enumerate(sources))
        row = await conn.fetchone(f"SELECT {counts} AS n", *[arg, MAX_HITS] * len(sources))
        return int(row["n"]) if row else 0

    async def _plan(self, conn: Connection, terms: Sequence[SearchTerm]
                    ) -> tuple[list[str], list[str], list[object]]:
        """The CTE and conditions finding tickets that hold every term: only the rarest
        word's tickets are listed, the other words are checked per ticket, and when every
        word is common nothing is listed: the newest tickets are read until a page is full,
        so "Message" in every message costs about as little as a rare name."""
        rarity = [await self._rarity(conn, term) for term in terms]
        rarest = min(range(len(terms)), key=lambda n: rarity[n])
        listed = rarest if rarity[rarest] < MAX_HITS else None
        ctes, where, args = [], [], []
        if listed is not None:
            sql, term_args = self._term_hits(terms[listed])
            ctes.append(f"w AS ({sql})")
            # PostgreSQL as an array: with `IN (w)` it guessed w large and hashed it against
            # every ticket of the queue (85,000 rows, 34 ms for 108 hits); an array it probes
            # by primary key, as SQLite does.
            where.append("t.id = ANY (ARRAY(SELECT id FROM w))" if self.db.dialect == "postgresql"
                         else "t.id IN (SELECT id FROM w)")
            args += term_args
        for n in (n for n in range(len(terms)) if n != listed):
            sql, term_args = self._term_check(terms[n])
            where.append(sql)
            args += term_args
        return ctes, where, args

    async def search_tickets(self, terms: Sequence[SearchTerm], queues: tuple[str, ...] | None,
                             *, page: int = 1, size: int = 20) -> SearchHits:
        """One page of the tickets holding every term, in `queues` (None: all queues)."""
        terms = terms[:MAX_TERMS]
        if not terms or (queues is not None and not queues):
            return SearchHits([], 0)
        if self.db.dialect != "postgresql":
            return await self._search(self.db, terms, queues, page, size)
        async with self.db.transaction() as tx:
            # Plans for these very values: a prepared statement's generic plan cannot tell
            # a rare fragment from a common one and scanned every message for an address.
            await tx.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            return await self._search(tx, terms, queues, page, size)

    async def _search(self, conn: Connection, terms: Sequence[SearchTerm],
                      queues: tuple[str, ...] | None, page: int, size: int) -> SearchHits:
        ctes, where, args = await self._plan(conn, terms)
        if queues is not None:
            where.append(f"t.queue IN ({', '.join('?' for _ in queues)})")
            args += queues
        with_ = f"WITH {', '.join(ctes)} " if ctes else ""
        body = f" FROM tickets t WHERE {' AND '.join(where)}"
        numbers = [t.number for t in terms if t.number is not None]
        # An exact ticket number first; otherwise newest first, along the primary key.
        order = "CASE WHEN t.id = ? THEN 0 ELSE 1 END, " if numbers else ""
        rows = await conn.fetchall(
            f"{with_}SELECT t.*{body} ORDER BY {order}t.id DESC LIMIT ? OFFSET ?",
            *args, *numbers[:1], size, (page - 1) * size)
        if page == 1 and len(rows) < size:  # all of them: no need to count
            return SearchHits([codec.ticket(row) for row in rows], len(rows))
        counted = await conn.fetchone(
            f"{with_}SELECT COUNT(*) AS n FROM (SELECT t.id{body} LIMIT ?) hits",
            *args, MAX_HITS + 1)
        return SearchHits([codec.ticket(row) for row in rows], int(counted["n"]) if counted else 0)
