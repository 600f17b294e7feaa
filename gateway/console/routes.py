"""Console HTTP handlers: log in and out, the ticket list, a ticket and what to do with it.

Handlers stay thin: the guard has already checked the session and the CSRF token and turns
refusals into error pages; the `TicketService` checks access, applies the rules and records
every change; the views build what is shown.
Each action answers with a redirect (post/redirect/get), so a reload never repeats it.
"""

from __future__ import annotations

from aiohttp import web

from gateway import auth
from gateway.console import views
from gateway.console.guard import (
    LOGIN,
    PREFIX,
    Refused,
    login_csrf,
    safe_next,
    set_login_csrf,
)
from gateway.console.pages import SESSION, page
from gateway.keys import SETTINGS, STORE, TICKETS
from gateway.models import OPEN_TICKET_STATUSES, Ticket

#: Same limit as the channels put on a customer's message.
MAX_TEXT_CHARS = 4000
#: `?done=` after an action: what the page confirms to the operator.
DONE = {"replied": "Reply sent to the customer.", "taken": "You now own this ticket.",
        "noted": "Internal note added.", "closed": "Ticket closed."}

routes = web.RouteTableDef()


def _login_form(request: web.Request, *, target: str | None, username: str = "",
                error: str | None = None, status: int = 200) -> web.Response:
    token = login_csrf(request)
    response = page(request, "login.html", {
        "csrf": token, "error": error, "next": safe_next(target), "username": username,
    }, status=status)
    set_login_csrf(response, token, request.app[SETTINGS].console.secure_cookies)
    return response


@routes.get(LOGIN)
async def login_page(request: web.Request) -> web.StreamResponse:
    if await auth.current_operator(request) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return _login_form(request, target=request.query.get("next"))


@routes.post(LOGIN)
async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    target = str(form.get("next", ""))
    operator = await auth.authenticate(request.app[STORE], username, password)
    if operator is None:
        return _login_form(request, target=target, username=username,
                           error="Wrong username or password.", status=401)
    response = web.HTTPSeeOther(safe_next(target))
    await auth.logout(request, response)  # drop any previous session: a new id at each login
    await auth.login(request, response, operator)
    raise response


@routes.post(f"{PREFIX}/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    response = web.HTTPSeeOther(LOGIN)
    await auth.logout(request, response)
    raise response


@routes.get(PREFIX)
async def ticket_list(request: web.Request) -> web.StreamResponse:
    operator = request[SESSION].operator
    tickets = await request.app[TICKETS].visible(operator, OPEN_TICKET_STATUSES)
    rows = await views.ticket_rows(request.app[STORE], tickets)
    return page(request, "tickets.html", {"rows": rows, "live": f"{PREFIX}/ws"})


@routes.get(f"{PREFIX}/")
async def ticket_list_slash(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently(PREFIX)


def _ticket_id(request: web.Request) -> int:
    return int(request.match_info["ticket_id"])


@routes.get(PREFIX + r"/tickets/{ticket_id:\d+}")
async def ticket_page(request: web.Request) -> web.StreamResponse:
    ticket_id = _ticket_id(request)
    view = await views.ticket_page(request.app[TICKETS], request[SESSION].operator, ticket_id)
    return page(request, "ticket.html", {
        "view": view, "done": DONE.get(request.query.get("done", "")),
        "outcomes": request.app[TICKETS].outcome_codes,
        "live": f"{PREFIX}/ws?ticket={ticket_id}",
    })


def _back(ticket_id: int, done: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{PREFIX}/tickets/{ticket_id}?done={done}")


async def _text(request: web.Request, name: str = "text", *, required: bool = True) -> str:
    """A posted text field, stripped and bounded."""
    text = str((await request.post()).get(name, "")).strip()
    if required and not text:
        raise Refused(400, "The text is empty.")
    if len(text) > MAX_TEXT_CHARS:
        raise Refused(400, f"The text is limited to {MAX_TEXT_CHARS} characters.")
    return text


async def _visible(request: web.Request, ticket_id: int, *, open_only: bool = False) -> Ticket:
    """Check access before anything else, so a refused operator learns nothing from the
    validation of their form. Taking or closing a closed ticket makes no sense: 409."""
    ticket = await request.app[TICKETS].get(request[SESSION].operator, ticket_id)
    if open_only and ticket.status == "closed":
        raise Refused(409, "This ticket is closed.")
    return ticket


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/reply")
async def reply(request: web.Request) -> web.StreamResponse:
    ticket_id = _ticket_id(request)
    await _visible(request, ticket_id)
    text = await _text(request)
    await request.app[TICKETS].reply(request[SESSION].operator, ticket_id, text)
    raise _back(ticket_id, "replied")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/take")
async def take(request: web.Request) -> web.StreamResponse:
    ticket_id = _ticket_id(request)
    await _visible(request, ticket_id, open_only=True)
    await request.app[TICKETS].take(request[SESSION].operator, ticket_id)
    raise _back(ticket_id, "taken")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/note")
async def note(request: web.Request) -> web.StreamResponse:
    ticket_id = _ticket_id(request)
    await _visible(request, ticket_id)
    text = await _text(request)
    await request.app[TICKETS].note(request[SESSION].operator, ticket_id, text)
    raise _back(ticket_id, "noted")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/close")
async def close(request: web.Request) -> web.StreamResponse:
    """Close with the wrap-up: an outcome code (checked by the service) and a summary."""
    ticket_id = _ticket_id(request)
    await _visible(request, ticket_id, open_only=True)
    outcome = await _text(request, "outcome", required=False)
    summary = await _text(request, "summary", required=False)
    await request.app[TICKETS].close(request[SESSION].operator, ticket_id, outcome, summary)
    raise _back(ticket_id, "closed")
