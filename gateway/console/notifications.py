"""`/console/notifications`: the operator's own notifications (assigned, mentioned, customer
replies and SLA warnings on their tickets; `gateway.tickets.notices`), a page at a time, and
marking them read; `/console/notifications/unread` is what the page's script asks for when
the live socket says there is news (a toast, the count in the tab title).

Every query is by the session's operator: nobody reads or marks another's notifications.
`/console/tickets/N/mentionable` lists the colleagues a note on that ticket can mention.
"""

from __future__ import annotations

from aiohttp import web

from gateway.console import people
from gateway.console.guard import PREFIX, Refused
from gateway.console.i18n import N_, _
from gateway.console.pages import SESSION, page
from gateway.console.routes import common, ticket_id_of, visible_ticket
from gateway.ids import parse_id
from gateway.keys import STORE
from gateway.models import OperatorNotification
from gateway.store.notification_queries import PAGE_SIZE
from gateway.tickets.notices import KINDS
from gateway.tickets.service import can_see

NOTIFICATIONS = f"{PREFIX}/notifications"
#: At most this many new notifications come with one toast check.
MAX_TOASTS = 5

#: What each kind of notification reads as (`gateway.tickets.notices.KINDS`), translated.
LABELS = {"assigned": N_("Assigned to you"), "mention": N_("You were mentioned"),
          "customer_reply": N_("Customer replied"), "sla_warning": N_("SLA warning"),
          "sla_breached": N_("SLA breached"), "taken": N_("Taken over by a colleague")}
assert set(LABELS) == set(KINDS)

routes = web.RouteTableDef()


def label(kind: str) -> str:
    return _(LABELS[kind]) if kind in LABELS else kind


def _id(raw: str, what: str) -> int | None:
    if not raw or raw == "0":  # 0: a page that has seen none yet
        return None
    parsed = parse_id(raw)
    if parsed is None:
        raise Refused(400, _("%(field)s must be a notification number.") % {"field": what})
    return parsed


@routes.get(NOTIFICATIONS)
async def notifications_page(request: web.Request) -> web.StreamResponse:
    """Newest first, `PAGE_SIZE` at a time; "older" pages by keyset (`?before=id`)."""
    operator, store = request[SESSION].operator, request.app[STORE]
    before = _id(request.query.get("before", "").strip(), "before")
    items = await store.notifications(operator.id, before=before)
    return page(request, "notifications.html", {
        "items": items, "labels": {kind: label(kind) for kind in LABELS},
        "older": items[-1].id if len(items) == PAGE_SIZE else None,
        "unread": await store.unread_notifications(operator.id),
        "done": request.query.get("done") == "read",
        **await common(request),
    })


def _shown(item: OperatorNotification) -> dict[str, object]:
    return {"id": item.id, "kind": item.kind, "title": label(item.kind),
            "text": item.text, "actor": item.actor,
            "url": f"{PREFIX}/tickets/{item.ticket_id}" if item.ticket_id else NOTIFICATIONS}


@routes.get(f"{NOTIFICATIONS}/unread")
async def unread(request: web.Request) -> web.StreamResponse:
    """The unread count, and the unread notifications newer than `?after=id` (JSON)."""
    operator, store = request[SESSION].operator, request.app[STORE]
    after = _id(request.query.get("after", "").strip(), "after") or 0
    items = await store.notifications(operator.id, after=after, unread=True, limit=MAX_TOASTS)
    return web.json_response({"unread": await store.unread_notifications(operator.id),
                              "items": [_shown(i) for i in items]},
                             headers={"Cache-Control": "no-store"})


@routes.post(f"{NOTIFICATIONS}/read")
async def mark_read(request: web.Request) -> web.StreamResponse:
    """Mark one notification (`id`), those of a ticket (`ticket`: its page was opened) or
    all (`all`) of the operator's own read."""
    form = await request.post()
    operator = request[SESSION].operator
    one = _id(str(form.get("id", "")).strip(), "id")
    ticket = _id(str(form.get("ticket", "")).strip(), "ticket")
    if one is None and ticket is None and not form.get("all"):
        raise Refused(400, _("Choose a notification, or all."))
    await request.app[STORE].mark_notifications_read(
        operator.id, None if one is None else [one], ticket_id=ticket)
    if request.headers.get("Accept") == "application/json":
        return web.json_response(
            {"unread": await request.app[STORE].unread_notifications(operator.id)})
    raise web.HTTPSeeOther(f"{NOTIFICATIONS}?done=read")


@routes.get(PREFIX + r"/tickets/{ticket_id:\d+}/mentionable")
async def mentionable(request: web.Request) -> web.StreamResponse:
    """The active colleagues who may open this ticket: whom a note on it can mention."""
    operator = request[SESSION].operator
    ticket = await visible_ticket(request, ticket_id_of(request))
    colleagues = [o for o in await people.operators(request)
                  if o.active and o.id != operator.id and can_see(o, ticket)]
    return web.json_response({"operators": [
        {"username": o.username, "name": o.display_name} for o in colleagues]})
