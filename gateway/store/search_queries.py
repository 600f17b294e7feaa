"""Ticket search: by number, customer (name, e-mail, customer number), subject and message
text, closed tickets included, in SQL on indexes (`migrations_console`).

Every word of the search must be found somewhere in the ticket (its subject, its customer, a
message of its conversation, or its number), so adding a word narrows the results. A word is
a fragment of at least three characters (what a trigram index can find) or a number; the
results are the newest first, an exact ticket number before them, and never more than
`MAX_HITS` are counted, so a search for a word every ticket holds stays cheap to answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.ids import parse_id
from gateway.models import Ticket
from gateway.store import codec
from gateway.store.db import Database

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
                "SELECT t.id FROM tickets t JOIN customers c ON c.id = t.customer_id"
                f" WHERE c.name {like} OR c.email {like} OR c.number {like}",
                "SELECT t.id FROM tickets t JOIN messages m ON m.conversation_id ="
                f" t.conversation_id WHERE m.text {like}",
            ]
            args += [_like(term.fragment)] * 5
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

    async def search_tickets(self, terms: Sequence[SearchTerm], queues: tuple[str, ...] | None,
                             *, page: int = 1, size: int = 20) -> SearchHits:
        """One page of the tickets holding every term, in `queues` (None: all queues)."""
        if not terms or (queues is not None and not queues):
            return SearchHits([], 0)
        ctes, where, args = [], [], []
        for n, term in enumerate(terms[:MAX_TERMS]):
            sql, term_args = self._term_hits(term)
            ctes.append(f"w{n} AS ({sql})")
            where.append(f"t.id IN (SELECT id FROM w{n})")
            args += term_args
        if queues is not None:
            where.append(f"t.queue IN ({', '.join('?' for _ in queues)})")
            args += queues
        with_, body = f"WITH {', '.join(ctes)} ", f" FROM tickets t WHERE {' AND '.join(where)}"
        counted = await self.db.fetchone(
            f"{with_}SELECT COUNT(*) AS n FROM (SELECT t.id{body} LIMIT ?) hits",
            *args, MAX_HITS + 1)
        total = int(counted["n"]) if counted else 0
        exact = next((t.number for t in terms if t.number is not None), 0)
        rows = await self.db.fetchall(
            f"{with_}SELECT t.*{body} ORDER BY CASE WHEN t.id = ? THEN 0 ELSE 1 END, t.id DESC"
            " LIMIT ? OFFSET ?", *args, exact, size, (page - 1) * size)
        return SearchHits([codec.ticket(row) for row in rows], total)
