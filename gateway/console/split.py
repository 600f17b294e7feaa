"""`POST /console/tickets/N/split`: a customer message of the ticket and those after it move
to a new ticket of the same customer (`TicketService.split` checks access and the message);
the operator lands on the new ticket."""

from __future__ import annotations

from aiohttp import web

from gateway.console.guard import PREFIX, Refused
from gateway.console.i18n import _
from gateway.console.pages import SESSION
from gateway.console.routes import ticket_id_of, visible_ticket
from gateway.ids import parse_id
from gateway.keys import TICKETS

routes = web.RouteTableDef()


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/split")
async def split(request: web.Request) -> web.StreamResponse:
    ticket_id = ticket_id_of(request)
    # access first (403/404), so a refused operator learns nothing from the form's checks
    await visible_ticket(request, ticket_id, open_only=True)
    operator = request[SESSION].operator
    message_id = parse_id(str((await request.post()).get("message", "")).strip())
    if message_id is None:
        raise Refused(400, _("Choose the customer message to split off."))
    new = await request.app[TICKETS].split(operator, ticket_id, message_id)
    raise web.HTTPSeeOther(f"{PREFIX}/tickets/{new.id}?done=split")
