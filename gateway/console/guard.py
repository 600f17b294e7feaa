"""The console's gatekeeping, in one place so no route can forget a part of it.

- every console path except the login page and static files needs a session;
- every POST carries the CSRF token in the `csrf` field (the login form a pre-session token
  held in its own cookie, so nobody can log a victim into a foreign account);
- `AccessDenied` becomes a 403 page and a missing object a 404 page, neither with any
  detail of the object; a refused action (`Refused`, `TicketError`) an error page saying why;
- every console response carries a strict Content-Security-Policy and friends;
- every console request speaks the operator's language (`gateway.console.i18n.choose`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web

from gateway.access.auth import csrf_ok, current_session
from gateway.console import i18n
from gateway.console.i18n import _
from gateway.console.pages import SESSION, Session, error_page
from gateway.errors import AccessDenied
from gateway.keys import SETTINGS
from gateway.tickets.service import TicketError

#: Sent by console.js on the page refreshes a live signal triggers: not operator activity.
LIVE_REFRESH_HEADER = "X-Live-Refresh"

PREFIX = "/console"
LOGIN = "/console/login"
STATIC = "/console/static/"
LOGIN_CSRF_COOKIE = "hgw_login_csrf"

#: No inline script or style, nothing from elsewhere, no framing, forms post only here.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


#: The reply form with files (reply_form.py) is read as a stream, past the app's 1 MB body
#: limit: for that one route the guard leaves the body, and its CSRF check, to the reader,
#: which refuses the form unless its first part is this token.
EXPECTED_CSRF: web.RequestKey[str] = web.RequestKey("console_deferred_csrf", str)
STREAMED_ROUTE = re.compile(re.escape(PREFIX) + r"/tickets/\d+/reply")


def expired_form() -> str:
    return _("This form has expired. Go back, reload the page and try again.")


def streamed(request: web.Request) -> bool:
    """Whether this request's body (and its CSRF check) is left to `reply_form.read`."""
    return (request.method == "POST" and request.content_type == "multipart/form-data"
            and STREAMED_ROUTE.fullmatch(request.path) is not None)


class Refused(Exception):
    """A console request that cannot be done as asked: answered with an error page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_console(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def safe_next(target: str | None) -> str:
    """Where to go after login or a header form: a console path only (never an open
    redirect), with its query (the filters of the list it came from)."""
    path = (target or "").partition("?")[0]
    if target and is_console(path) and not path.startswith(LOGIN) and "\\" not in target:
        return target
    return PREFIX


def login_csrf(request: web.Request) -> str:
    """The login form's token: reuse the browser's cookie so two open tabs both work."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def set_login_csrf(response: web.StreamResponse, token: str, secure: bool) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", path=LOGIN,
                        secure=secure)


async def _posted_csrf(request: web.Request) -> str | None:
    value = (await request.post()).get("csrf")
    return value if isinstance(value, str) else None


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_console(request.path):
        return await handler(request)
    token = i18n.use(i18n.choose(None, request.headers.get("Accept-Language"),
                                 request.app[SETTINGS].languages.default))
    try:
        return await _guarded(request, handler)
    finally:
        i18n.reset(token)


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    public = request.path == LOGIN or request.path.startswith(STATIC)
    expected: str | None
    if public:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    else:
        found = await current_session(
            request, extend=request.headers.get(LIVE_REFRESH_HEADER) != "1")
        if found is None:
            raise web.HTTPSeeOther(_login_url(request))
        operator, csrf, status = found  # the presence read with the session
        request[SESSION] = (Session(operator, csrf, presence=status[0], capacity=status[1])
                            if status else Session(operator, csrf))
        expected = csrf
        if operator.locale in i18n.LOCALES:
            i18n.use(operator.locale)
    if not public and expected and streamed(request):
        request[EXPECTED_CSRF] = expected
    elif request.method == "POST" and not (expected and csrf_ok(expected,
                                                                await _posted_csrf(request))):
        return error_page(request, 403, expired_form())
    try:
        return await handler(request)
    except Refused as exc:
        return error_page(request, exc.status, exc.message)
    except TicketError as exc:  # checked after access: it only speaks of the operator's ticket
        return error_page(request, 409, i18n.said(exc.message, exc.params))
    except AccessDenied:
        return error_page(request, 403, _("You do not have access to this ticket."))
    except LookupError as exc:
        if type(exc) is not LookupError:  # KeyError/IndexError are bugs, not "not found"
            raise
        return error_page(request, 404, _("There is no such ticket."))
    except web.HTTPNotFound:  # no such console route
        return error_page(request, 404, _("There is no such page."))


def _login_url(request: web.Request) -> str:
    """The login page, remembering a GET target so the operator lands where they aimed."""
    if request.method == "GET" and request.path != PREFIX:
        return f"{LOGIN}?{urlencode({'next': request.path_qs})}"
    return LOGIN


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: also covers redirects, router 404s and the WebSocket upgrade."""
    if not is_console(request.path):
        return
    response.headers.update(HEADERS)
    if not request.path.startswith(STATIC):
        response.headers["Cache-Control"] = "no-store"
