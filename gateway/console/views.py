"""What each console page shows, built from the store's records.

Templates only lay these out. The one place that decides which text may be shown as HTML
lives here: customer text never is; bot and operator Markdown goes through `to_safe_html`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from gateway.config.settings import Settings
from gateway.console import queries
from gateway.console.audit import AuditItem, audit_item
from gateway.console.canned import language_of
from gateway.console.i18n import N_, _
from gateway.console.labels import label
from gateway.console.listing import RowFacts
from gateway.console.pages import UTC_ZONE
from gateway.console.sla import RowSla, TicketSla, ticket_sla
from gateway.markdown import to_safe_html
from gateway.models import (
    Conversation,
    Customer,
    Event,
    Message,
    Operator,
    Survey,
    Ticket,
    utcnow,
)
from gateway.store import Store
from gateway.store.attachments import AttachmentMeta, attachments_of
from gateway.tickets.service import TicketService


@dataclass(frozen=True)
class TicketRow:
    id: int
    subject: str
    customer: str
    channel: str
    language: str
    queue: str
    priority: str
    status: str
    assignee: str
    created_at: datetime
    age: str
    sla: RowSla | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileLink:
    """A customer's attachment as listed under the message; `stored` False = too large."""

    id: int
    name: str
    size: str
    stored: bool


#: Who wrote a message, other than the customer and an operator.
AUTHORS = {"bot": N_("Bot"), "system": N_("System")}


def size_label(size: int) -> str:
    """Bytes for people: "512 B", "12.3 KB", "4.0 MB"."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def file_link(meta: AttachmentMeta) -> FileLink:
    return FileLink(id=meta.id, name=meta.filename or "attachment", size=size_label(meta.size),
                    stored=not meta.too_large)


@dataclass(frozen=True)
class Entry:
    """One message of the transcript; `html` is set only for sanitised bot/operator Markdown."""

    id: int
    author: str
    who: str
    text: str
    html: Markup | None
    created_at: datetime
    delivery: str | None = None
    files: tuple[FileLink, ...] = ()
    #: Set for a message of a merged ticket's conversation: which one.
    source: str | None = None
    #: The outbox entry of a reply that failed or is uncertain: the page offers a resend.
    resend_id: int | None = None
    stopped_status: str | None = None


@dataclass(frozen=True)
class Candidate:
    article_id: str
    title: str
    confidence: str


@dataclass(frozen=True)
class Attempt:
    """One thing the bot tried before handing over (a reason, or a scored match)."""

    reason: str | None = None
    decision: str | None = None
    confidence: str | None = None
    language: str | None = None
    candidates: list[Candidate] = field(default_factory=list)
    #: A back-office lookup or booking the bot made (docs/actions.md).
    lookup: Lookup | None = None


@dataclass(frozen=True)
class Lookup:
    """What an article's action asked the back office, with which values, and what came
    back (the request as the admin wrote it: the path template, not a built URL)."""

    request: str
    values: list[tuple[str, str]]
    result: str
    at: str
    #: The top-level fields of the answer, personal ones masked (gateway/bot/lookup_record.py).
    fields: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryItem:
    """Another ticket of the same customer (only those the operator may open)."""

    id: int
    subject: str
    status: str
    channel: str
    created_at: datetime


@dataclass(frozen=True)
class Profile:
    customer: Customer
    channel: str
    conversations: list[queries.PastConversation]
    tickets: list[HistoryItem]
    conversations_total: int = 0
    #: All the other tickets the operator may see, of which `tickets` is one page.
    tickets_total: int = 0
    history_page: int = 1
    history_pages: int = 1


@dataclass(frozen=True)
class TicketPage:
    ticket: Ticket
    conversation: Conversation
    assignee: str
    transcript: list[Entry]
    attempts: list[Attempt]
    profile: Profile
    audit: list[AuditItem]
    sla: TicketSla | None = None
    #: The customer's language: what the canned answers are offered in.
    language: str = "en"
    #: The satisfaction survey of the ticket (scheduled, sent, answered or skipped).
    survey: Survey | None = None
    #: Tickets split off this one, and the one it was split from: (label, ticket id).
    links: tuple[tuple[str, int], ...] = ()
    #: The ticket's tags, in order.
    tags: list[str] = field(default_factory=list)
    #: The desk's known tags (`Store.known_tags`): the tag form's suggestions.
    known_tags: list[str] = field(default_factory=list)

    @property
    def undelivered(self) -> list[Entry]:
        """Replies that failed or may not have arrived: shown above everything else."""
        return [e for e in self.transcript if e.resend_id is not None]


def age(moment: datetime, now: datetime) -> str:
    """A short, human age ("5 min", "3 h", "2 d") for scanning a queue."""
    minutes = max(0, int((now - moment).total_seconds())) // 60
    if minutes < 1:
        return "< 1 min"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def percent(value: Any) -> str:
    return f"{float(value):.0%}" if isinstance(value, int | float) else "–"


def _names(operators: list[Operator]) -> dict[int, str]:
    return {o.id: o.display_name for o in operators}


async def ticket_rows(store: Store, tickets: list[Ticket], operators: list[Operator],
                      slas: dict[int, RowSla] | None = None,
                      facts: Mapping[int, RowFacts] | None = None) -> list[TicketRow]:
    """The queue table: tickets joined with their customer, channel, assignee (among
    `operators`, the request's: `people.operators`) and SLA. With `facts` (read with the
    list's page) nothing more is read; without (search results), one query per table."""
    if facts is None:
        facts = await queries.row_facts(store, tickets)
    names = _names(operators)
    now = utcnow()
    rows = []
    for t in tickets:
        known = facts.get(t.id)
        rows.append(TicketRow(
            id=t.id, subject=t.subject or _("(no subject)"),
            customer=(known.customer or "?") if known else "?",
            channel=(known.channel or "?") if known else "?",
            language=t.language or "–", queue=t.queue, priority=t.priority, status=t.status,
            assignee=names.get(t.assignee_id, "–") if t.assignee_id else "–",
            created_at=t.created_at, age=age(t.created_at, now),
            sla=(slas or {}).get(t.id), tags=known.tags if known else (),
        ))
    return rows


def entry(message: Message, delivery: queries.Delivery | None,
          files: list[AttachmentMeta] | None = None, source: str | None = None) -> Entry:
    if message.author == "customer":
        who, html = _("Customer"), None
    else:
        who = (message.meta.get("operator") or _("Operator")) if message.author == "operator" \
            else _(AUTHORS[message.author]) if message.author in AUTHORS \
            else message.author.capitalize()
        html = Markup(to_safe_html(message.text))  # sanitised by nh3: safe to embed
    status = None
    if delivery is not None:
        status = label(delivery.status, "delivery") + (
            f": {delivery.last_error}" if delivery.last_error else "")
    stopped = delivery is not None and delivery.stopped
    return Entry(id=message.id, author=message.author, who=str(who), text=message.text,
                 html=html, created_at=message.created_at, delivery=status,
                 files=tuple(file_link(f) for f in files or ()), source=source,
                 resend_id=delivery.outbox_id if stopped and delivery else None,
                 stopped_status=delivery.status if stopped and delivery else None)


def attempts(raw: list[dict[str, Any]]) -> list[Attempt]:
    """`ticket.bot_attempts` as recorded by the pipeline, tolerant of missing keys."""
    shown = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        candidates = [
            Candidate(article_id=str(c.get("article_id", "")),
                      title=str(c.get("title") or c.get("article_id", "")),
                      confidence=percent(c.get("confidence")))
            for c in item.get("candidates", []) if isinstance(c, dict)
        ]
        shown.append(Attempt(
            reason=item.get("reason"), decision=item.get("decision"),
            confidence=percent(item["confidence"]) if "confidence" in item else None,
            language=item.get("language"), candidates=candidates,
            lookup=_lookup(item.get("action")),
        ))
    return shown


def _lookup(action: Any) -> Lookup | None:
    if not isinstance(action, dict):
        return None
    slots = action.get("slots")
    slots = slots if isinstance(slots, dict) else {}
    fields = action.get("fields")
    fields = fields if isinstance(fields, dict) else {}
    return Lookup(
        request=f"{action.get('method', '')} {action.get('integration', '')} "
                f"{action.get('path', '')}".strip(),
        values=[(str(k), str(v)) for k, v in sorted(slots.items())],
        result=str(action.get("result", "")), at=str(action.get("at", "")),
        fields=[(str(k), str(v)) for k, v in fields.items()])


async def _profile(store: Store, operator: Operator, ticket: Ticket, customer: Customer,
                   conversation: Conversation, history_page: int = 1) -> Profile:
    """The customer card, bounded: a customer with 300 tickets gets a page of 20 of them
    (two statements: the conversations and the page of tickets, each with its count)."""
    conversations, conversations_total = await queries.conversations_of_customer(
        store, customer.id)
    queues = None if operator.role in ("supervisor", "admin") else operator.queues
    others, total = await queries.tickets_of_customer(store, customer.id, exclude=ticket.id,
                                                      queues=queues, page=history_page)
    history = [HistoryItem(id=t.id, subject=t.subject, status=t.status, channel=channel,
                           created_at=t.created_at) for t, channel in others]
    return Profile(customer=customer, channel=conversation.channel,
                   conversations=conversations, tickets=history,
                   conversations_total=conversations_total, tickets_total=total,
                   history_page=history_page,
                   history_pages=max(1, -(-total // queries.CARD_SIZE)))


def merged_ids(trail: list[Event]) -> set[int]:
    """The tickets merged into this one, from its own trail (`ticket.merged_from`)."""
    return {found for found in (e.data.get("from") for e in trail
                                if e.type == "ticket.merged_from") if isinstance(found, int)}


async def _transcript(store: Store, conversation: Conversation, ticket: Ticket,
                      trail: list[Event]) -> list[Entry]:
    """The ticket's conversation and those of the tickets merged into it, in time order; a
    message of a merged conversation says which ticket it came from. Of a split
    conversation, the ticket split off shows its own messages, the others the rest. The
    merges and the split are read from the ticket's `trail`; each conversation is one
    statement, and the attachments one more when a message has any."""
    sources: dict[int, str | None] = {conversation.id: None}
    merged = await queries.merged_tickets(store, merged_ids(trail))
    ours = {ticket.id} | {t.id for t, _channel in merged}  # a split ticket merged back: ours
    for other, channel in merged:
        if other.conversation_id not in sources:
            sources[other.conversation_id] = _("merged ticket #%(id)s (%(channel)s)") % {
                "id": other.id, "channel": channel}
    split_off = any(e.type == "ticket.split_from" for e in trail)
    shown: list[tuple[queries.Shown, str | None]] = []
    for conversation_id, source in sources.items():
        messages = await queries.transcript_messages(store, conversation_id)
        if conversation_id == conversation.id and any(m.placed is not None for m in messages):
            # split: this ticket's share
            messages = [m for m in messages if m.placed in ours
                        or (not split_off and m.placed is None)]
        shown += [(m, source) for m in messages]
    files = await attachments_of(store, [m.message.id for m, _source in shown if m.has_files
                                         and m.message.author in ("customer", "operator")])
    entries = [(m.message, entry(m.message, m.delivery, files.get(m.message.id), source))
               for m, source in shown]
    return [made for _, made in sorted(entries, key=lambda pair: (pair[0].created_at,
                                                                 pair[0].id))]


async def ticket_page(service: TicketService, operator: Operator, ticket_id: int,
                      operators: list[Operator], settings: Settings | None = None,
                      history_page: int = 1) -> TicketPage:
    """Everything the ticket page shows; `AccessDenied`/`LookupError` before anything else
    is read (the ticket comes with its conversation, customer, tags and survey, checked
    against `operator` before any of it is used).

    `operators`: the request's (`people.operators`), for the owner's name. With `settings`,
    also the SLA clocks as of now."""
    store = service.store
    context = await queries.ticket_context(store, ticket_id)
    ticket = service.checked(operator, ticket_id, context.ticket if context else None)
    assert context is not None
    conversation = context.conversation
    names = _names(operators)
    # The ticket's own trail, plus conversation events that belong to no ticket
    # (delivery failures, feedback) so the operator sees when a reply did not go out.
    events = await queries.trail(store, ticket.id, conversation.id)
    trail = [e for e in events if e.ticket_id == ticket.id]
    transcript = await _transcript(store, conversation, ticket, trail)
    profile = await _profile(store, operator, ticket, context.customer, conversation,
                             history_page)
    zone = ZoneInfo(settings.calendar.timezone) if settings else UTC_ZONE
    return TicketPage(
        ticket=ticket, conversation=conversation,
        assignee=names.get(ticket.assignee_id, "–") if ticket.assignee_id else _("nobody"),
        transcript=transcript, attempts=attempts(ticket.bot_attempts),
        profile=profile,
        audit=[audit_item(e, names, zone) for e in events],
        sla=ticket_sla(settings, ticket, trail, utcnow()) if settings is not None else None,
        language=(language_of(settings, ticket, conversation.language, profile.customer)
                  if settings is not None else ticket.language or "en"),
        survey=context.survey, tags=context.tags, known_tags=context.known_tags,
        links=_links(trail),
    )


def _links(trail: list[Event]) -> tuple[tuple[str, int], ...]:
    """The split tickets linked to this one, from its own trail."""
    found = []
    for event in trail:
        other = event.data.get("to" if event.type == "ticket.split" else "from")
        if event.type in ("ticket.split", "ticket.split_from") and isinstance(other, int):
            found.append((_("Split off to") if event.type == "ticket.split"
                          else _("Split from"), other))
    return tuple(found)
