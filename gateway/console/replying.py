"""`POST /console/tickets/{id}/reply`: the operator's answer to the customer, with files.

The form is read by `reply_form` (streamed multipart with files, or the plain form of a
page loaded before); what it refuses comes back as the ticket page with the draft kept.
"""

from __future__ import annotations

from aiohttp import web

from gateway.console import reply_form
from gateway.console.guard import PREFIX, Refused
from gateway.console.i18n import _, ngettext
from gateway.console.pages import SESSION
from gateway.console.routes import (
    MAX_TEXT_CHARS,
    _back,
    _ticket_response,
    ticket_id_of,
    visible_ticket,
)
from gateway.keys import STORE, TICKETS

routes = web.RouteTableDef()


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/reply")
async def reply(request: web.Request) -> web.StreamResponse:
    """Send, with the files attached (`reply_form`), unless a colleague replied since the
    operator's page loaded (`seen`, the newest message it showed): then the page again with
    their reply above the kept draft (409). A refused file or text shows the page again
    with the draft kept and what was wrong: nothing is sent."""
    ticket_id = ticket_id_of(request)
    ticket = await visible_ticket(request, ticket_id)
    form = await reply_form.form_of(request)
    operator, text = request[SESSION].operator, form.text.strip()
    if not text and not form.files and form.refusal is None:
        raise Refused(400, _("The text is empty."))
    refusal = await reply_form.refusal(request, form, ticket.conversation_id, MAX_TEXT_CHARS)
    if refusal is not None:
        return await _ticket_response(request, ticket_id, draft=text[:MAX_TEXT_CHARS],
                                      reply_error=_("Nothing was sent. %(reason)s")
                                      % {"reason": refusal[1]},
                                      status=refusal[0])
    if form.seen.strip().isdigit():
        others = await request.app[STORE].replies_since(ticket.conversation_id,
                                                        int(form.seen.strip()), operator.id)
        if others:
            dropped = ngettext("The file you attached was not sent: attach it again.",
                               "The %(num)d files you attached were not sent: attach them "
                               "again.", len(form.files)) % {"num": len(form.files)} \
                if form.files else ""
            return await _ticket_response(request, ticket_id, collision=others, draft=text,
                                          reply_error=dropped, status=409)
    await request.app[TICKETS].reply(operator, ticket_id, text, form.files)
    raise _back(ticket_id, "replied")
