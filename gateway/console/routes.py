"""Console HTTP handlers: log in and out, the ticket list, a ticket and what to do with it.

Handlers stay thin: the guard has already checked the session and the CSRF token, the
`TicketService` checks access and records every change, the views build what is shown.
Each action answers with a redirect (post/redirect/get), so a reload never repeats it.
"""

from __future__ import annotations

from aiohttp import web

from gateway import auth
from gateway.console import views
from gateway.console.guard import (
    LOGIN,
    PREFIX,
    login_csrf,
    safe_next,
    set_login_csrf,
)
from gateway.console.pages import SESSION, error_page, page
from gateway.keys import SETTINGS, STORE, TICKETS
from gateway.models import OPEN_TICKET_STATUSES

#: Same limit as the channels put on a customer's message.
MAX_TEXT_CHARS = 4000
#: `?done=` after an action: what the page confirms to the operator.
DONE = {"replied": "Reply sent to the customer.", "taken": "You now own this ticket.",
        "noted": "Internal note added.", "closed": "Ticket closed."}

routes = web.RouteTableDef()


def _login_form(request: web.Request, error: str | None, status: int) -> web.Response:
    token = login_csrf(request)
    response = page(request, "login.html", {
        "csrf": token, "error": error, "next": safe_next(request.query.get("next")),
        "username": "",
    }, status=status)
    set_login_csrf(response, token, request.app[SETTINGS].console.secure_cookies)
    return response


@routes.get(LOGIN)
async def login_page(request: web.Request) -> web.StreamResponse:
    if await auth.current_operator(request) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return _login_form(request, None, 200)


@routes.post(LOGIN)
async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    operator = await auth.authenticate(request.app[STORE], username.strip(), password)
    if operator is None:
        return _login_form(request, "Wrong username or password.", 401)
    response = web.HTTPSeeOther(safe_next(str(form.get("next", ""))))
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
        "live": f"{PREFIX}/ws?ticket={ticket_id}",
    })


def _back(ticket_id: int, done: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{PREFIX}/tickets/{ticket_id}?done={done}")


async def _text(request: web.Request) -> str | web.Response:
    """The posted `text`, or the error page to answer with."""
    text = str((await request.post()).get("text", "")).strip()
    if not text:
        return error_page(request, 400, "The text is empty.")
    if len(text) > MAX_TEXT_CHARS:
        return error_page(request, 400, f"The text is limited to {MAX_TEXT_CHARS} characters.")
    return text


async def _refusal(request: web.Request, ticket_id: int, *, open_only: bool) -> web.Response | None:
    """Check access before reading the form; a closed ticket takes no reply (409): replying
    or taking it would hand the conversation back to people with no ticket to track it."""
    ticket = await request.app[TICKETS].get(request[SESSION].operator, ticket_id)
    if open_only and ticket.status == "closed":
        return error_page(request, 409, "This ticket is closed.")
    return None


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/reply")
async def reply(request: web.Request) -> web.StreamResponse:
    ticket_id = _ticket_id(request)
    refused = await _refusal(request, ticket_id, open_only=True)
    if refused is not None:
        return refused
    text = await _text(request)
    if isinstance(text, web.Response):
        return text
    await request.app[TICKETS].reply(request[SESSION].operator, ticket_id, text)
    raise _back(ticket_id, "replied")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/take")
async def take(request: web.Request) -> web.StreamResponse:
    ticket_id = _ticket_id(request)
    refused = await _refusal(request, ticket_id, open_only=True)
    if refused is not None:
        return refused
    await request.app[TICKETS].take(request[SESSION].operator, ticket_id)
    raise _back(ticket_id, "taken")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/note")
async def note(request: web.Request) -> web.StreamResponse:
    ticket_id = _ticket_id(request)
    refused = await _refusal(request, ticket_id, open_only=False)
    if refused is not None:
        return refused
    text = await _text(request)
    if isinstance(text, web.Response):
        return text
    await request.app[TICKETS].note(request[SESSION].operator, ticket_id, text)
    raise _back(ticket_id, "noted")


@routes.post(PREFIX + r"/tickets/{ticket_id:\d+}/close")
async def close(request: web.Request) -> web.StreamResponse:
    ticket_id = _ticket_id(request)
    await request.app[TICKETS].close(request[SESSION].operator, ticket_id)
    raise _back(ticket_id, "closed")
