"""One customer's personal data: export it (right of access) or erase it (right to erasure).

GDPR, as the Belgian authority (APD/GBA) applies it: a person may ask for everything kept
about them, or for it to be erased, and the two requests must never be confused. Both
cover every place the gateway keeps data: the customer record, their channel identities,
conversations, messages, attachments, tickets with their history and internal notes, the
outbox, satisfaction surveys (a comment is erased, a score kept), and the e-mail
connector's own state (quarantined raw mail, bounce suppression, auto-reply stamps).

Erasure keeps the *shape* of the records (tickets, their priority, SLA timers, who did
what and when) so the statistics and the audit trail stay true, and removes every word and
address that came from or names the customer. Their unclosed tickets are closed: nobody
can answer a customer whose address is gone. Portable SQL with `?` placeholders,
like gateway/store/attachments.py.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from gateway.addresses import valid_address
from gateway.channels import ChannelState
from gateway.errors import GatewayError
from gateway.models import utcnow
from gateway.store import Store, codec
from gateway.store.db import Connection
from gateway.store.outreach_queries import remember_erased

log = structlog.get_logger(__name__)

#: What an erased text or name reads as in the console and the API.
ERASED = "[erased]"


class NoSuchCustomer(GatewayError):
    """The reference matched no customer, or several (say which)."""


@dataclass(frozen=True)
class Erasure:
    """What was erased, by count: the answer to give the person who asked."""

    customer_id: int
    conversations: int
    messages: int
    attachments: int
    tickets: int
    tickets_closed: int
    events: int
    identities: int
    outbox_cancelled: int
    connector_state: int


async def find_customer(store: Store, reference: str) -> int:
    """The customer a request is about: their number (`42`), e-mail address, or a channel
    identity (`slack:U123`, `webchat:<session hash>`, `api:<integration>:<their id>`)."""
    reference = reference.strip()
    if reference.isascii() and reference.isdigit():
        rows = await store.db.fetchall("SELECT id FROM customers WHERE id = ?", int(reference))
    elif ":" in reference and "@" not in reference.split(":", 1)[0]:
        channel, address = reference.split(":", 1)
        rows = await store.db.fetchall(
            "SELECT customer_id AS id FROM identities WHERE channel = ? AND address = ?",
            channel, address)
    else:
        address = reference.lower()
        rows = await store.db.fetchall(
            "SELECT id FROM customers WHERE lower(email) = ? UNION SELECT customer_id FROM"
            " identities WHERE channel = 'email' AND lower(address) = ?", address, address)
    ids = sorted({int(r["id"]) for r in rows})
    if not ids:
        raise NoSuchCustomer(f"no customer matches {reference!r} (give their number, e-mail "
                             "address or channel:identity)")
    if len(ids) > 1:
        raise NoSuchCustomer(f"{reference!r} matches customers {ids}: give the number")
    return ids[0]


async def export(store: Store, customer_id: int,
                 channels: Sequence[ChannelState]) -> dict[str, Any]:
    """Everything kept about the customer, as one JSON-ready document (each channel's own
    state under its name)."""
    customer = await store.db.fetchone("SELECT * FROM customers WHERE id = ?", customer_id)
    if customer is None:
        raise NoSuchCustomer(f"no customer {customer_id}")
    db = store.db
    identities = await db.fetchall(
        "SELECT channel, address, created_at FROM identities WHERE customer_id = ? ORDER BY id",
        customer_id)
    conversations = []
    for conversation in await db.fetchall(
            "SELECT * FROM conversations WHERE customer_id = ? ORDER BY id", customer_id):
        messages = []
        for message in await db.fetchall(
                "SELECT id, direction, author, text, kind, meta, created_at FROM messages"
                " WHERE conversation_id = ? ORDER BY id", conversation["id"]):
            files = await db.fetchall(
                "SELECT filename, content_type, size, too_large, data FROM attachments"
                " WHERE message_id = ? ORDER BY id", message["id"])
            messages.append({
                **_plain(message, "meta"), "meta": json.loads(message["meta"]),
                "attachments": [{**_plain(f, "data"), "too_large": bool(f["too_large"]),
                                 "data_base64": _b64(f["data"])} for f in files]})
        follow_up = await db.fetchone(
            "SELECT email, consented_at FROM conversation_follow_ups WHERE conversation_id = ?",
            conversation["id"])
        conversations.append({**_plain(conversation), "messages": messages,
                              "follow_up_address": _plain(follow_up) if follow_up else None})
    tickets = []
    for ticket in await db.fetchall(
            "SELECT * FROM tickets WHERE customer_id = ? ORDER BY id", customer_id):
        events = await db.fetchall(
            "SELECT actor, type, data, created_at FROM events WHERE ticket_id = ? ORDER BY id",
            ticket["id"])
        tickets.append({**_plain(ticket, "bot_attempts"),
                        "bot_attempts": json.loads(ticket["bot_attempts"]),
                        "history": [{**_plain(e, "data"), "data": json.loads(e["data"])}
                                    for e in events]})
    addresses = _addresses(customer, identities)
    return {
        "exported_at": codec.ts(utcnow()),
        "customer": _plain(customer),
        "identities": [_plain(i) for i in identities],
        "conversations": conversations,
        "tickets": tickets,
        "satisfaction_surveys": [_plain(r) for r in await db.fetchall(
            "SELECT ticket_id, channel, status, score, comment, sent_at, answered_at"
            " FROM csat_surveys WHERE customer_id = ? ORDER BY id", customer_id)],
        **await _outreach(db, customer_id),
        **{c.channel: await c.about(store, addresses) for c in channels},
    }


async def _outreach(db: Connection, customer_id: int) -> dict[str, Any]:
    """What reaching out kept (docs/outbound.md): notifications, opt-outs, call-backs."""
    return {
        "notifications": [_plain(r) for r in await db.fetchall(
            "SELECT integration, template_id, status, reason, channel, order_ref, created_at"
            " FROM notifications WHERE customer_id = ? ORDER BY id", customer_id)],
        "contact_opt_outs": [_plain(r) for r in await db.fetchall(
            "SELECT category, created_at FROM contact_optouts WHERE customer_id = ?"
            " ORDER BY category", customer_id)],
        "call_backs": [_plain(r) for r in await db.fetchall(
            "SELECT c.ticket_id, c.kind, c.window_start, c.window_end, c.phrase, c.status"
            " FROM callbacks c JOIN tickets t ON t.id = c.ticket_id WHERE t.customer_id = ?"
            " ORDER BY c.id", customer_id)],
    }


async def erase(store: Store, customer_id: int, channels: Sequence[ChannelState],
                actor: str) -> Erasure:
    """Remove every word and address of the customer; keep the records' shape and audit.

    The database part is one transaction: a failure leaves everything as it was, and
    running it again is harmless.
    """
    db = store.db
    customer = await db.fetchone("SELECT * FROM customers WHERE id = ?", customer_id)
    if customer is None:
        raise NoSuchCustomer(f"no customer {customer_id}")
    identities = await db.fetchall("SELECT channel, address FROM identities WHERE customer_id = ?",
                                   customer_id)
    addresses = _addresses(customer, identities)
    async with db.transaction() as tx:
        conversations = await _ids(tx, "SELECT id FROM conversations WHERE customer_id = ?",
                                   customer_id)
        unclosed = await _ids(tx, "SELECT id FROM tickets WHERE customer_id = ? AND status"
                                  " <> 'closed'", customer_id)
        # the addresses left for chat follow-ups are theirs too (mail state, mentions)
        addresses = [*addresses, *[str(r["email"]) for r in await tx.fetchall(
            f"SELECT email FROM conversation_follow_ups WHERE conversation_id IN"
            f" ({_marks(conversations)})", *conversations)]]
        counts = await erase_content(tx, conversations)
        counts["events"] += await _mentioning(tx, addresses)
        # A later notification for the same identity or address is told "erased", not
        # taken for a new customer (a digest is kept, never the address).
        await remember_erased(tx, [(i["channel"], i["address"]) for i in identities]
                              + ([("email", customer["email"])] if customer["email"] else []))
        await tx.execute("UPDATE notifications SET order_ref = NULL WHERE customer_id = ?",
                         customer_id)
        await tx.execute("UPDATE campaign_recipients SET status = 'skipped', reason = 'erased'"
                         " WHERE customer_id = ? AND status = 'pending'", customer_id)
        counts["identities"] = await tx.execute("DELETE FROM identities WHERE customer_id = ?",
                                                customer_id)
        await _in(tx, "UPDATE outbox SET address = ? WHERE conversation_id IN",
                  conversations, ERASED)
        for conversation in conversations:  # (channel, address) stays unique
            await tx.execute("UPDATE conversations SET address = ?, owner = 'bot',"
                             " verified_number = NULL WHERE id = ?",
                             f"erased:{conversation}", conversation)
        now = codec.ts(utcnow())
        for ticket in unclosed:  # nobody can be answered any more: out of the queues
            row = await tx.fetchone("UPDATE tickets SET status = 'closed', updated_at = ?"
                                    " WHERE id = ? RETURNING conversation_id", now, ticket)
            assert row is not None
            await tx.execute(
                "INSERT INTO events (conversation_id, ticket_id, actor, type, data, created_at)"
                " VALUES (?, ?, ?, 'ticket.closed', ?, ?)", row["conversation_id"], ticket,
                actor, json.dumps({"outcome": "customer data erased"}), now)
        await tx.execute("UPDATE customers SET name = ?, email = NULL, number = NULL"
                         " WHERE id = ?", ERASED, customer_id)
        await tx.execute(
            "INSERT INTO events (conversation_id, ticket_id, actor, type, data, created_at)"
            " VALUES (NULL, NULL, ?, 'customer.erased', ?, ?)",
            actor, json.dumps({"customer_id": customer_id}), now)
    forgotten = sum([await c.forget(store, addresses) for c in channels])
    result = Erasure(customer_id, conversations=len(conversations),
                     tickets_closed=len(unclosed), connector_state=forgotten, **counts)
    log.info("customer.erased", customer_id=customer_id, actor=actor)  # no personal data
    return result


async def erase_content(conn: Connection, conversations: Sequence[int]) -> dict[str, int]:
    """Erase what was said in these conversations, keep who, when and what happened:
    message texts and metadata, attachments, unsent replies, ticket subjects, what the bot
    tried, event details (notes), what operators' notifications quoted. Also used by
    retention (gateway/privacy/retention.py)."""
    tickets = await _ids(conn, f"SELECT id FROM tickets WHERE conversation_id IN"
                               f" ({_marks(conversations)})", *conversations)
    messages = await _ids(conn, f"SELECT id FROM messages WHERE conversation_id IN"
                                f" ({_marks(conversations)})", *conversations)
    counts = {
        "attachments": await _in(conn, "DELETE FROM attachments WHERE message_id IN", messages),
        "messages": await _in(conn, "UPDATE messages SET text = ?, meta = '{}' WHERE id IN",
                              messages, ERASED),
        "outbox_cancelled": await _in(
            conn, "UPDATE outbox SET status = 'failed', last_error = ? WHERE status ="
                  " 'pending' AND message_id IN", messages, "cancelled: customer data erased"),
        "events": await _in(conn, "UPDATE events SET data = '{}' WHERE ticket_id IN", tickets)
        + await _in(conn, "UPDATE events SET data = '{}' WHERE ticket_id IS NULL AND"
                          " conversation_id IN", conversations),
        "tickets": await _in(conn, "UPDATE tickets SET subject = ?, bot_attempts = '[]'"
                                   " WHERE id IN", tickets, ERASED),
    }
    await _in(conn, "UPDATE outbox SET payload = '{}' WHERE message_id IN", messages)
    # a chat's follow-up address and the browsers a mailed link joined to it
    await _in(conn, "DELETE FROM conversation_follow_ups WHERE conversation_id IN",
              conversations)
    await _in(conn, "DELETE FROM chat_session_links WHERE conversation_id IN", conversations)
    # operators' notifications quote the subject, the customer's reply or a note
    await _in(conn, "UPDATE operator_notifications SET text = ? WHERE ticket_id IN", tickets,
              ERASED)
    # what the customer said of a call-back window, and what operators noted on the calls
    await _in(conn, "UPDATE callbacks SET phrase = '' WHERE ticket_id IN", tickets)
    if tickets:
        await conn.execute("UPDATE callback_attempts SET note = '' WHERE callback_id IN"
                           f" (SELECT id FROM callbacks WHERE ticket_id IN ({_marks(tickets)}))",
                           *tickets)
    # a survey's comment is the customer's words; its score (a number) stays for the reports
    await _in(conn, "UPDATE csat_surveys SET comment = NULL WHERE conversation_id IN",
              conversations)
    await _in(conn, "UPDATE csat_surveys SET status = 'skipped', skip_reason = ? WHERE"
                    " status = 'scheduled' AND conversation_id IN", conversations,
              "customer data erased")
    return counts


async def _mentioning(conn: Connection, addresses: Sequence[str]) -> int:
    """Events elsewhere that name one of the addresses (a bounce not matched to a
    conversation, a note on a colleague's ticket).

    The address is a literal: `_` and `%` in it are escaped for LIKE (they are wildcards
    there), and a candidate must hold the whole address, not a longer one containing it
    (erasing `ann@x.be` leaves `joann@x.be` alone). Only syntactically valid addresses
    are looked for: a stored `%` is nobody's address and would match almost everything.
    """
    scrubbed = 0
    for address in addresses:
        if not valid_address(address):
            continue
        whole = re.compile(rf"(?<![\w.!#$%&'*+/=?^`{{|}}~-]){re.escape(address)}(?![\w-]|\.\w)")
        rows = await conn.fetchall(
            "SELECT id, data FROM events WHERE data <> '{}' AND lower(data) LIKE ? ESCAPE '!'",
            "%" + _like_literal(address) + "%")
        ids = [int(r["id"]) for r in rows if whole.search(str(r["data"]).lower())]
        scrubbed += await _in(conn, "UPDATE events SET data = '{}' WHERE id IN", ids)
    return scrubbed


def _like_literal(text: str) -> str:
    """`text` matching only itself in `LIKE ? ESCAPE '!'`."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _addresses(customer: Any, identities: Sequence[Any]) -> list[str]:
    """The customer's e-mail addresses, as the e-mail connector keys its state."""
    found = {str(customer["email"]).lower()} if customer["email"] else set()
    found |= {str(i["address"]).lower() for i in identities if i["channel"] == "email"}
    return sorted(found)


def _plain(row: Any, *leave_out: str) -> dict[str, Any]:
    return {k: row[k] for k in row.keys() if k not in leave_out}


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(bytes(data)).decode("ascii") if data is not None else None


def _marks(ids: Sequence[int]) -> str:
    return ", ".join("?" for _ in ids) or "NULL"


async def _ids(conn: Connection, sql: str, *args: Any) -> list[int]:
    return [int(r["id"]) for r in await conn.fetchall(sql, *args)]


async def _in(conn: Connection, sql: str, ids: Sequence[int], *before: Any) -> int:
    """Run `sql (ids...)` with `before` bound first; 0 rows when there are no ids."""
    if not ids:
        return 0
    return await conn.execute(f"{sql} ({_marks(ids)})", *before, *ids)
