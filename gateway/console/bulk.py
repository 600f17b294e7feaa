"""Bulk actions on the ticket list: assign, transfer, set the priority, add tags or close
the tickets ticked on the page, in one form (`POST /console/bulk`, CSRF-checked like every form).

Each ticket goes through the same `TicketService` call as the single action, so access is
checked per ticket (a ticket outside the operator's queues is skipped, never changed) and
each change writes its own audit event. The list then says how many were changed and which
numbers were not, with why in one word.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

from aiohttp import web

from gateway import tags
from gateway.console import people
from gateway.console.guard import PREFIX, Refused, safe_next
from gateway.console.i18n import N_, _, ngettext
from gateway.console.pages import SESSION
from gateway.errors import AccessDenied
from gateway.ids import parse_id
from gateway.keys import STORE, TICKETS
from gateway.models import Operator
from gateway.tickets.service import TicketError, TicketService

#: The most tickets one bulk action takes (a page shows 50).
MAX_TICKETS = 100
ACTIONS = {"assign": N_("Assign to…"), "transfer": N_("Transfer to queue…"),
           "priority": N_("Set priority…"), "tag": N_("Add tags…"),
           "close": N_("Close with outcome…")}
#: Query parameters of the list that carry the last bulk action's result.
RESULT = ("done", "changed", "skipped")

routes = web.RouteTableDef()


def summary(query: Mapping[str, str]) -> str | None:
    """The list's confirmation after a bulk action (`?done=bulk&changed=3&skipped=12,13`)."""
    if query.get("done") != "bulk":
        return None
    changed = int(query.get("changed", "0")) if query.get("changed", "").isdigit() else 0
    text = ngettext("%(num)d ticket changed.", "%(num)d tickets changed.", changed) % {
        "num": changed}
    skipped = [n for n in query.get("skipped", "").split(",") if n.isdigit()]
    if skipped:
        text += " " + _("Not changed: %(tickets)s (not possible for that ticket: closed, not "
                        "yours, or not found).") % {
            "tickets": ", ".join(f"#{n}" for n in skipped)}
    return text


async def form_choices(request: web.Request) -> dict[str, object]:
    """What the bulk form offers: actions, active operators, queues, priorities, outcomes."""
    service: TicketService = request.app[TICKETS]
    operators = [o for o in await people.operators(request) if o.active]
    return {"actions": {code: _(label) for code, label in ACTIONS.items()},
            "operators": operators, "queues": service.queues,
            "priorities": service.priorities, "outcomes": service.outcome_codes}


async def _one(service: TicketService, operator: Operator, ticket_id: int, action: str,
               form: Mapping[str, str], assignee: Operator | None) -> None:
    """One ticket's change; a closed ticket takes none (as on its page)."""
    if (await service.get(operator, ticket_id)).status == "closed":
        raise TicketError(N_("ticket %(id)s is closed"), id=ticket_id)
    if action == "assign":
        assert assignee is not None
        await service.transfer(operator, ticket_id, assignee=assignee,
                               reason=form["reason"] or "assigned in bulk")
    elif action == "transfer":
        await service.transfer(operator, ticket_id, queue=form["queue"],
                               reason=form["reason"] or "transferred in bulk")
    elif action == "priority":
        await service.update(operator, ticket_id, priority=form["priority"])
    elif action == "tag":
        await service.tag(operator, ticket_id, add=tags.parse(form["tags"])[0])
    else:
        await service.close(operator, ticket_id, form["outcome"], "")


def _checked(action: str, form: Mapping[str, str]) -> None:
    """Refuse a form that cannot apply to any ticket before touching one."""
    if action not in ACTIONS:
        raise Refused(400, _("Choose what to do with the selected tickets."))
    if action == "tag":
        valid, refused = tags.parse(form["tags"])
        if refused or not valid:
            raise Refused(400, _("Type the tags to add (1-32 letters, digits, - or _)."))


@routes.post(f"{PREFIX}/bulk")
async def bulk(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    ids = [parse_id(str(raw)) for raw in posted.getall("ticket", [])]
    wanted = list(dict.fromkeys(i for i in ids if i is not None))
    if not wanted:
        raise Refused(400, _("Tick the tickets to change first."))
    if len(wanted) > MAX_TICKETS:
        raise Refused(400, _("At most %(num)d tickets at once.") % {"num": MAX_TICKETS})
    form = {key: str(posted.get(key, "")).strip()[:4000]
            for key in ("action", "assignee", "queue", "reason", "priority", "tags", "outcome")}
    action = form["action"]
    _checked(action, form)
    assignee = None
    if action == "assign":
        assignee = await request.app[STORE].operator_by_username(form["assignee"])
        if assignee is None or not assignee.active:
            raise Refused(400, _("Choose the operator to assign the tickets to."))
    operator, service = request[SESSION].operator, request.app[TICKETS]
    changed, skipped = 0, []
    for ticket_id in wanted:
        try:
            await _one(service, operator, ticket_id, action, form, assignee)
            changed += 1
        except (TicketError, AccessDenied, LookupError):
            skipped.append(str(ticket_id))
    raise web.HTTPSeeOther(_back(str(posted.get("next", "")), changed, skipped))


def _back(target: str, changed: int, skipped: list[str]) -> str:
    """The list the form came from (its filters kept), with this action's result."""
    parts = urlsplit(target)
    path = safe_next(parts.path)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in RESULT and path == parts.path]
    result = [("done", "bulk"), ("changed", str(changed))]
    if skipped:
        result.append(("skipped", ",".join(skipped)))
    return f"{path}?{urlencode(kept + result)}"
