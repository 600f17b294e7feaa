"""`/console/callbacks`: the call-backs customers asked for, earliest window first, with
their attempts logged here (reached, no answer, wrong number, call back at …); and a
follow-up date on any ticket (`/console/tickets/N/follow-up`), after which the ticket comes
back to its assignee (gateway/sla/callbacks.py). Lists filter, count and page in SQL,
within the operator's queues."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from babel.dates import format_datetime

from gateway.console.guard import PREFIX, Refused
from gateway.console.i18n import N_, _, format_locale
from gateway.console.pages import SESSION, page
from gateway.console.routes import common
from gateway.console.search import visible_queues
from gateway.ids import parse_id
from gateway.keys import SETTINGS, STORE, TICKETS
from gateway.models import utcnow
from gateway.store.callback_queries import OUTCOMES

CALLBACKS = f"{PREFIX}/callbacks"
PAGE_SIZE = 50
#: Call-backs whose window starts within this horizon are listed.
HORIZON = timedelta(days=14)
OUTCOME_LABELS = {"reached": N_("Reached"), "no_answer": N_("No answer"),
                  "wrong_number": N_("Wrong number"), "call_back_at": N_("Call back at …")}
#: A new window asked for on the phone lasts this long.
AGAIN_LENGTH = timedelta(hours=1)

routes = web.RouteTableDef()


def _local(request: web.Request, moment: datetime) -> str:
    """"Mon 07 Dec 15:00", "lun. 07 déc. 15:00": the office's time, the operator's words."""
    tz = request.app[SETTINGS].calendar.calendar().tz
    return format_datetime(moment, "EEE dd MMM HH:mm", tzinfo=tz, locale=format_locale())


def _when(request: web.Request, raw: str) -> datetime:
    """A `datetime-local` field, in the office's time zone."""
    try:
        naive = datetime.fromisoformat(raw.strip()[:16])
    except ValueError:
        raise Refused(400, _("Give a date and time, e.g. 2026-12-07T15:00.")) from None
    return naive.replace(tzinfo=request.app[SETTINGS].calendar.calendar().tz)


@routes.get(CALLBACKS)
async def callbacks_page(request: web.Request) -> web.StreamResponse:
    operator, store, now = request[SESSION].operator, request.app[STORE], utcnow()
    number = max(1, min(parse_id(request.query.get("page", "1")) or 1, 1000))
    rows, total = await store.due_callbacks(visible_queues(operator), now + HORIZON,
                                            limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    items: list[dict[str, Any]] = [{
        **row, "from": _local(request, row["callback"].window_start),
        "until": _local(request, row["callback"].window_end),
        "due": row["callback"].window_start <= now,
        "late": row["callback"].window_end <= now} for row in rows]
    return page(request, "callbacks.html", {
        "items": items, "total": total, "page": number,
        "pages": max(1, -(-total // PAGE_SIZE)), "outcomes": OUTCOME_LABELS,
        "done": request.query.get("done") == "logged", **await common(request)})


@routes.post(CALLBACKS + r"/{callback_id:\d+}/attempt")
async def log_attempt(request: web.Request) -> web.StreamResponse:
    operator, store = request[SESSION].operator, request.app[STORE]
    item = await store.get_callback(int(request.match_info["callback_id"]))
    if item is None:
        raise Refused(404, _("There is no such call-back."))
    await request.app[TICKETS].get(operator, item.ticket_id)  # access before the form
    form = await request.post()
    outcome = str(form.get("outcome", ""))
    if outcome not in OUTCOMES:
        raise Refused(400, _("Choose what the call gave."))
    again = None
    if outcome == "call_back_at":
        start = _when(request, str(form.get("at", "")))
        again = (start, start + AGAIN_LENGTH)
    note = str(form.get("note", ""))[:500]
    await store.log_callback_attempt(item.id, operator.id, outcome, note, again)
    await store.add_event(operator.username, "call-back.attempt", ticket_id=item.ticket_id,
                          data={"callback_id": item.id, "outcome": outcome})
    raise web.HTTPSeeOther(f"{CALLBACKS}?done=logged")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/follow-up")
async def follow_up(request: web.Request) -> web.StreamResponse:
    operator, store = request[SESSION].operator, request.app[STORE]
    ticket = await request.app[TICKETS].get(operator, int(request.match_info["ticket_id"]))
    at = _when(request, str((await request.post()).get("at", "")))
    if at <= utcnow():
        raise Refused(400, _("A follow-up date is in the future."))
    await store.add_callback(ticket.id, "follow_up", at, at, phrase="follow-up",
                             created_by=operator.username)
    raise web.HTTPSeeOther(f"{PREFIX}/tickets/{ticket.id}?done=updated")
