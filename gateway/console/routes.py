"""Console HTTP handlers: the ticket list, a ticket and what to do with it.

Handlers stay thin: the guard has already checked the session and the CSRF token and turns
refusals into error pages; the `TicketService` checks access, applies the rules and records
every change; the views build what is shown.
Each action answers with a redirect (post/redirect/get), so a reload never repeats it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from gateway.console import (
    alerts,
    bulk,
    canned,
    channel_status,
    filters,
    listing,
    macros,
    people,
    queries,
    queue_views,
    reply_form,
    views,
)
from gateway.console import sla as console_sla
from gateway.console.guard import PREFIX, Refused, safe_next
from gateway.console.i18n import N_, _, said
from gateway.console.pages import SESSION, page
from gateway.console.transfer import transfer_targets
from gateway.delivery.notify import live_topic
from gateway.ids import parse_id
from gateway.keys import CONNECTORS, HUB, KB, OUTBOX, SETTINGS, SLA_WATCHER, STORE, TICKETS
from gateway.models import Message, Ticket, utcnow
from gateway.tickets.lifecycle import TRANSITIONS
from gateway.tickets.routing import PRESENCES, set_presence
from gateway.tickets.service import SETTABLE_STATUSES, TicketError, can_see
from knowledge_base.model import CATEGORIES

#: Same limit as the channels put on a customer's message.
MAX_TEXT_CHARS = 4000
#: The most tickets an operator can say they take at once.
MAX_CAPACITY = 50
#: `?done=` after an action: what the page confirms to the operator.
DONE = {"replied": N_("Reply sent to the customer."),
        "taken": N_("You now own this ticket."),
        "noted": N_("Internal note added."), "closed": N_("Ticket closed."),
        "transferred": N_("Ticket transferred."),
        "status-pending": N_("Set to pending: waiting on the customer. The SLA is paused."),
        "status-solved": N_("Marked solved. A reply from the customer reopens it."),
        "status-open": N_("Reopened: the SLA runs again."),
        "merged": N_("The duplicate was merged into this ticket."),
        "split": N_("Split off: this new ticket holds the chosen message and those after it."),
        "created": N_("Ticket opened; it is yours."), "updated": N_("Ticket updated."),
        "unchanged": N_("Nothing changed."), "tagged": N_("Tags changed."),
        "resent": N_("The reply is queued to be sent again.")}
#: The same on the list, after an action that took the ticket out of the operator's sight.
LIST_DONE = {"transferred": N_("Ticket transferred. It is no longer in your queues."),
             "presence": N_("Presence updated.")}
#: The status buttons, in the order shown.
STATUS_ACTIONS = {"pending": N_("Pending (waiting on the customer)"), "solved": N_("Solved"),
                  "open": N_("Reopen")}

NEW_TICKET_FIELDS = ("name", "email", "subject", "text", "queue", "priority")

routes = web.RouteTableDef()


def _done(said: dict[str, str], query: Mapping[str, str]) -> str | None:
    """The confirmation `?done=` names, in the operator's language."""
    known = said.get(query.get("done", ""))
    return _(known) if known else None


async def common(request: web.Request) -> dict[str, Any]:
    """What every page shows around its content: the operator's SLA alerts, and the
    channels that are not working."""
    return {"alerts": await alerts.sla_alerts(request.app[STORE], request[SESSION].operator),
            "channels_down": channel_status.problems(request.app[CONNECTORS])}


@routes.get(PREFIX)
async def ticket_list(request: web.Request) -> web.StreamResponse:
    """The queue view, filtered, sorted and paged by GET parameters (see `filters`), all in
    SQL over every ticket: the count is the true one, not the size of a capped batch."""
    operator = request[SESSION].operator
    settings, store = request.app[SETTINGS], request.app[STORE]
    offered = filters.choices(settings, operator, await store.known_tags())
    chosen = filters.selected(request.query, offered)
    sort, number = filters.sort_of(request.query), filters.page_of(request.query)
    now = utcnow()
    await request.app[SLA_WATCHER].catch_up(now)
    wanted = filters.ticket_filter(chosen, operator)
    # the list's total and every view's count in one statement
    total, *view_totals = await listing.counts(
        store, [wanted, *queue_views.view_filters(operator)], now)
    found = await listing.ticket_page(store, wanted, now, sort=sort, page=number, total=total)
    slas = await console_sla.row_slas(store, settings, found.tickets, now, found.facts)
    rows = await views.ticket_rows(store, found.tickets, await people.operators(request), slas,
                                   found.facts)
    return page(request, "tickets.html", {
        "rows": rows, "found": found, "offered": offered, "chosen": chosen,
        "views": await queue_views.view_links(store, operator, request.query, now,
                                              view_totals),
        "sort": sort, "sorts": {k: _(label) for k, (label, _sql) in listing.SORTS.items()},
        "pager": filters.pager(request.query, found),
        "filtered": any(chosen.values()), "assignees": filters.ASSIGNEES,
        "done": _done(LIST_DONE, request.query) or bulk.summary(request.query),
        "bulk": await bulk.form_choices(request),
        "kb_errors": alerts.kb_errors_for(operator, request.app[KB].errors),
        "live": f"{PREFIX}/ws", **await common(request),
    })


def _new_ticket_form(request: web.Request, form: dict[str, str], error: str = "",
                     status: int = 200) -> web.Response:
    operator, service = request[SESSION].operator, request.app[TICKETS]
    queues = [q for q in service.queues if operator.role != "agent" or q in operator.queues]
    return page(request, "new_ticket.html", {
        "form": form, "error": error, "queues": queues, "priorities": service.priorities,
    }, status=status)


@routes.get(f"{PREFIX}/tickets/new")
async def new_ticket_page(request: web.Request) -> web.StreamResponse:
    blank = dict.fromkeys(NEW_TICKET_FIELDS, "")
    return _new_ticket_form(request, {**blank, "priority": "P3"})


@routes.post(f"{PREFIX}/tickets/new")
async def new_ticket(request: web.Request) -> web.StreamResponse:
    """A contact by phone or at the counter becomes a ticket the operator owns."""
    posted = await request.post()
    form = {key: str(posted.get(key, "")).strip()[:MAX_TEXT_CHARS]
            for key in NEW_TICKET_FIELDS}
    if form["priority"] not in request.app[TICKETS].priorities:
        return _new_ticket_form(request, form, _("Choose a priority from the list."), 400)
    try:
        ticket = await request.app[TICKETS].create(
            request[SESSION].operator, name=form["name"], email=form["email"] or None,
            subject=form["subject"], text=form["text"], queue=form["queue"],
            priority=form["priority"])
    except TicketError as exc:
        return _new_ticket_form(request, form, said(exc.message, exc.params), 400)
    raise _back(ticket.id, "created")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/fields")
async def update_fields(request: web.Request) -> web.StreamResponse:
    """Correct the priority, the subject or the purpose category."""
    ticket_id = ticket_id_of(request)
    before = await visible_ticket(request, ticket_id, open_only=True)
    posted = await request.post()
    priority = str(posted.get("priority", "")).strip() or None
    subject = str(posted.get("subject", "")).strip()[:200] or None
    category = str(posted.get("category", "")).strip() or None
    after = await request.app[TICKETS].update(request[SESSION].operator, ticket_id,
                                              priority=priority, subject=subject,
                                              category=category)
    raise _back(ticket_id, "updated" if after.updated_at != before.updated_at else "unchanged")


@routes.get(f"{PREFIX}/")
async def ticket_list_slash(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently(PREFIX)


def ticket_id_of(request: web.Request) -> int:
    ticket_id = parse_id(request.match_info["ticket_id"])
    if ticket_id is None:  # beyond any id the database can hold
        raise LookupError(f"no ticket {request.match_info['ticket_id']}")
    return ticket_id


@routes.get(PREFIX + r"/tickets/{ticket_id:\d+}")
async def ticket_page(request: web.Request) -> web.StreamResponse:
    raw = request.query.get("history", "").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= filters.MAX_PAGE:
        raise Refused(400, _("The history page must be a number."))
    return await _ticket_response(request, ticket_id_of(request), history_page=int(raw))


async def _ticket_response(request: web.Request, ticket_id: int, *, history_page: int = 1,
                           collision: list[Message] | None = None, draft: str = "",
                           reply_error: str = "", status: int = 200) -> web.Response:
    """The ticket page; with `collision`, the replies others sent since the operator's page
    loaded, above their draft (kept) for them to read before sending it again."""
    operator, service = request[SESSION].operator, request.app[TICKETS]
    everyone = await people.operators(request)
    view = await views.ticket_page(service, operator, ticket_id, everyone,
                                   request.app[SETTINGS], history_page=history_page)
    ticket = view.ticket
    _read(request, view)
    return page(request, "ticket.html", {
        "view": view, "done": _done(DONE, request.query),
        "outcomes": service.outcome_codes, "queues": service.queues,
        "priorities": service.priorities, "categories": CATEGORIES,
        "targets": transfer_targets(ticket, everyone, await people.statuses(request)),
        "status_actions": _status_actions(ticket),
        "duplicates": [t for t in view.profile.tickets if t.status != "closed"],
        "tags": view.tags,
        "known_tags": view.known_tags,
        "macros": macros.macro_views(request.app[SETTINGS]),
        "collision": collision or [], "draft": draft, "reply_error": reply_error,
        "reply_files": reply_form.composer(request, view.conversation.channel),
        "collided": sorted({str(m.meta.get("operator") or "A colleague")
                            for m in collision or []}),
        "seen": max((e.id for e in view.transcript), default=0),
        "live": f"{PREFIX}/ws?ticket={ticket_id}", "csat_bad": request.app[
            SETTINGS].csat.bad_score, **await common(request),
    }, status=status)


def _read(request: web.Request, view: views.TicketPage) -> None:
    """The customer's open chat marks their messages up to the newest one shown here as
    seen by the desk ("Seen" under it, as chat widgets do); best-effort, in memory."""
    shown = [e.id for e in view.transcript if e.author == "customer" and e.source is None]
    if shown and view.ticket.status != "closed":
        conversation = view.conversation
        request.app[HUB].publish(live_topic(conversation.channel, conversation.address),
                                 {"type": "read", "upto": max(shown)})


def _status_actions(ticket: Ticket) -> dict[str, str]:
    """The status buttons the lifecycle allows now (a new ticket opens by Take or a reply)."""
    return {status: _(label) for status, label in STATUS_ACTIONS.items()
            if status != ticket.status and status in TRANSITIONS.get(ticket.status, ())
            and not (status == "open" and ticket.status == "new")}


@routes.get(PREFIX + r"/tickets/{ticket_id:\d+}/answers")
async def canned_answers(request: web.Request) -> web.StreamResponse:
    """The KB's answers in the customer's language, for the reply box (JSON)."""
    ticket = await visible_ticket(request, ticket_id_of(request))
    store, settings = request.app[STORE], request.app[SETTINGS]
    conversation = await store.get_conversation(ticket.conversation_id)
    customer = await store.get_customer(ticket.customer_id)
    assert conversation is not None and customer is not None  # foreign keys
    language = canned.language_of(settings, ticket, conversation.language, customer)
    articles = request.app[KB].snapshot.articles
    return web.json_response({
        "language": language,
        "answers": canned.answers(articles, language, settings, ticket, customer),
    })


def _back(ticket_id: int, done: str) -> web.HTTPSeeOther:
    """Post/redirect/get: back to the ticket with a confirmation."""
    return web.HTTPSeeOther(f"{PREFIX}/tickets/{ticket_id}?done={done}")


async def _text(request: web.Request, name: str = "text", *, required: bool = True) -> str:
    """A posted text field, stripped and bounded."""
    text = str((await request.post()).get(name, "")).strip()
    if required and not text:
        raise Refused(400, _("The text is empty."))
    if len(text) > MAX_TEXT_CHARS:
        raise Refused(400, _("The text is limited to %(num)d characters.")
                      % {"num": MAX_TEXT_CHARS})
    return text


async def visible_ticket(request: web.Request, ticket_id: int, *,
                         open_only: bool = False) -> Ticket:
    """Check access before anything else, so a refused operator learns nothing from the
    validation of their form. Taking or closing a closed ticket makes no sense: 409."""
    ticket = await request.app[TICKETS].get(request[SESSION].operator, ticket_id)
    if open_only and ticket.status == "closed":
        raise Refused(409, _("This ticket is closed."))
    return ticket


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/take")
async def take(request: web.Request) -> web.StreamResponse:
    """Take the ticket; a colleague's ticket only when the form confirms it (the checkbox
    beside Take), and the colleague is told."""
    ticket_id = ticket_id_of(request)
    ticket = await visible_ticket(request, ticket_id, open_only=True)
    operator = request[SESSION].operator
    if ticket.assignee_id not in (None, operator.id) and \
            (await request.post()).get("confirm") != "1":
        raise Refused(409, _("A colleague owns this ticket: tick the box beside Take to take"
                             " it over."))
    await request.app[TICKETS].take(operator, ticket_id)
    raise _back(ticket_id, "taken")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/note")
async def note(request: web.Request) -> web.StreamResponse:
    ticket_id = ticket_id_of(request)
    await visible_ticket(request, ticket_id)
    text = await _text(request)
    await request.app[TICKETS].note(request[SESSION].operator, ticket_id, text)
    raise _back(ticket_id, "noted")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/close")
async def close(request: web.Request) -> web.StreamResponse:
    """Close with the wrap-up: an outcome code (checked by the service) and a summary."""
    ticket_id = ticket_id_of(request)
    await visible_ticket(request, ticket_id, open_only=True)
    outcome = await _text(request, "outcome", required=False)
    summary = await _text(request, "summary", required=False)
    await request.app[TICKETS].close(request[SESSION].operator, ticket_id, outcome, summary)
    raise _back(ticket_id, "closed")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/transfer")
async def transfer(request: web.Request) -> web.StreamResponse:
    """To another queue (unassigned there) and/or a named operator; the reason is required."""
    ticket_id = ticket_id_of(request)
    operator = request[SESSION].operator
    await visible_ticket(request, ticket_id, open_only=True)
    form = await request.post()
    reason = await _text(request, "reason", required=False)
    if not reason:
        raise Refused(400, _("Say why you transfer this ticket: the reason is required."))
    queue = str(form.get("queue", "")).strip() or None
    username = str(form.get("assignee", "")).strip()
    assignee = None
    if username:
        assignee = await request.app[STORE].operator_by_username(username)
        if assignee is None or not assignee.active:
            raise Refused(400, _("There is no such operator."))
    if queue is None and assignee is None:
        raise Refused(400, _("Choose a queue or an operator to transfer the ticket to."))
    ticket = await request.app[TICKETS].transfer(operator, ticket_id, reason=reason,
                                                 queue=queue, assignee=assignee)
    if not can_see(operator, ticket):  # given away to a queue that is not ours
        raise web.HTTPSeeOther(f"{PREFIX}?done=transferred")
    raise _back(ticket_id, "transferred")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/status")
async def set_status(request: web.Request) -> web.StreamResponse:
    """Pending (waiting on the customer: SLA paused), solved, or open again."""
    ticket_id = ticket_id_of(request)
    await visible_ticket(request, ticket_id, open_only=True)
    status = str((await request.post()).get("status", ""))
    if status not in SETTABLE_STATUSES:
        raise Refused(400, _("The status must be one of: %(statuses)s.")
                      % {"statuses": ", ".join(SETTABLE_STATUSES)})
    await request.app[TICKETS].set_status(request[SESSION].operator, ticket_id, status)
    raise _back(ticket_id, f"status-{status}")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/merge")
async def merge(request: web.Request) -> web.StreamResponse:
    """Close this ticket as a duplicate of another ticket of the same customer."""
    ticket_id = ticket_id_of(request)
    await visible_ticket(request, ticket_id, open_only=True)
    into = parse_id(str((await request.post()).get("into", "")).strip().removeprefix("#"))
    if into is None:
        raise Refused(400, _("Give the number of the ticket to merge into."))
    target = await request.app[TICKETS].merge(request[SESSION].operator, ticket_id, into)
    raise _back(target.id, "merged")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/outbox/{outbox_id:\d+}/resend")
async def resend(request: web.Request) -> web.StreamResponse:
    """Send a failed or uncertain reply again (of this ticket's conversation, or of a ticket
    merged into it: the page shows those too)."""
    ticket_id = ticket_id_of(request)
    ticket = await visible_ticket(request, ticket_id)
    outbox_id = parse_id(request.match_info["outbox_id"])
    entry = await request.app[STORE].outbox_entry(outbox_id) if outbox_id else None
    shown = {ticket.conversation_id} | {
        t.conversation_id for t in await queries.merged_into(request.app[STORE], ticket.id)}
    if entry is None or entry.conversation_id not in shown:
        raise Refused(404, _("There is no such reply on this ticket."))
    if not await request.app[OUTBOX].redrive([entry.id], request[SESSION].operator.username):
        raise Refused(409, _("This reply is not failed or uncertain (any more)."))
    raise _back(ticket_id, "resent")


@routes.post(f"{PREFIX}/presence")
async def presence(request: web.Request) -> web.StreamResponse:
    """The operator's own presence and capacity (what automatic assignment goes by)."""
    form = await request.post()
    wanted = str(form.get("presence", ""))
    raw_capacity = str(form.get("capacity", "")).strip()
    if wanted not in PRESENCES:
        raise Refused(400, _("Presence must be one of: %(choices)s.")
                      % {"choices": ", ".join(PRESENCES)})
    capacity = None
    if raw_capacity:
        if not raw_capacity.isdigit() or int(raw_capacity) > MAX_CAPACITY:
            raise Refused(400, _("Capacity must be a whole number from 0 to %(num)d.")
                          % {"num": MAX_CAPACITY})
        capacity = int(raw_capacity)
    await set_presence(request.app[STORE], request[SESSION].operator.id, wanted,
                       capacity=capacity)
    target = safe_next(str(form.get("next", "")))
    raise web.HTTPSeeOther(target if target != PREFIX else f"{PREFIX}?done=presence")
