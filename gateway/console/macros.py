"""Tags and macros on a ticket page: `POST …/tags` adds or removes tags, `POST …/macro`
applies a macro (`[[console.macros]]`, gateway/config/macros.py).

A macro's changes go through the `TicketService` like any other (access, lifecycle and
audit alike); its text is only handed back, for the page to put into the reply box, so
applying a macro never sends anything to the customer.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from gateway import tags
from gateway.config.macros import MacroSettings
from gateway.config.settings import Settings
from gateway.console.canned import placeholders
from gateway.console.guard import PREFIX, Refused
from gateway.console.i18n import _
from gateway.console.pages import SESSION
from gateway.ids import parse_id
from gateway.keys import SETTINGS, STORE, TICKETS
from gateway.models import Customer, Ticket
from knowledge_base.render import render_answer

routes = web.RouteTableDef()


@dataclass(frozen=True)
class MacroView:
    name: str
    #: What it changes, in words ("status → pending", "tag + refund").
    does: list[str]


def changes(macro: MacroSettings) -> list[str]:
    does = [f"status → {macro.status}"] if macro.status else []
    does += [f"priority → {macro.priority}"] if macro.priority else []
    does += [f"tag + {tag}" for tag in macro.add_tags]
    does += [f"tag − {tag}" for tag in macro.remove_tags]
    return does + (["inserts a text"] if macro.text else [])


def macro_views(settings: Settings) -> list[MacroView]:
    return [MacroView(macro.name, changes(macro)) for macro in settings.console.macros]


def text_of(macro: MacroSettings, settings: Settings, ticket: Ticket, customer: Customer) -> str:
    return render_answer(macro.text, placeholders(settings, ticket, customer)).strip()


async def _ticket(request: web.Request) -> Ticket:
    ticket_id = parse_id(request.match_info["ticket_id"])
    if ticket_id is None:
        raise LookupError(f"no ticket {request.match_info['ticket_id']}")
    ticket = await request.app[TICKETS].get(request[SESSION].operator, ticket_id)
    if ticket.status == "closed":
        raise Refused(409, _("This ticket is closed."))
    return ticket


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/tags")
async def change_tags(request: web.Request) -> web.StreamResponse:
    """`add`: tags separated by commas or spaces; `remove`: one tag."""
    ticket = await _ticket(request)
    posted = await request.post()
    add, refused = tags.parse(str(posted.get("add", "")))
    removed = tags.normalise(str(posted.get("remove", "")))
    if refused:
        raise Refused(400, _("Not a tag (1-32 letters, digits, - or _): %(tags)s")
                      % {"tags": ", ".join(refused)})
    if not add and removed is None:
        raise Refused(400, _("Type a tag to add."))
    await request.app[TICKETS].tag(request[SESSION].operator, ticket.id, add,
                                   [removed] if removed else [])
    raise web.HTTPSeeOther(f"{PREFIX}/tickets/{ticket.id}?done=tagged")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/macro")
async def apply_macro(request: web.Request) -> web.StreamResponse:
    """Apply a macro's changes; answer with what changed and its text (JSON)."""
    ticket = await _ticket(request)
    settings, service = request.app[SETTINGS], request.app[TICKETS]
    operator = request[SESSION].operator
    name = str((await request.post()).get("macro", ""))
    macro = next((m for m in settings.console.macros if m.name == name), None)
    if macro is None:
        raise Refused(400, _("There is no such macro."))
    if macro.add_tags or macro.remove_tags:
        await service.tag(operator, ticket.id, macro.add_tags, macro.remove_tags)
    if macro.priority:
        await service.update(operator, ticket.id, priority=macro.priority)
    if macro.status and macro.status != ticket.status:
        await service.set_status(operator, ticket.id, macro.status)
    customer = await request.app[STORE].get_customer(ticket.customer_id)
    assert customer is not None  # tickets reference customers (foreign key)
    return web.json_response({"macro": macro.name, "applied": changes(macro),
                              "text": text_of(macro, settings, ticket, customer)})
