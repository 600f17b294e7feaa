"""Logging in and out of the console. Failed logins are throttled per account and per
source address (gateway/access/login_throttle.py) and logged as security events, never with the
password; a login always starts a new session (gateway/access/auth.py)."""

from __future__ import annotations

import math

import structlog
from aiohttp import web

from gateway.access import auth
from gateway.console.guard import LOGIN, PREFIX, login_csrf, safe_next, set_login_csrf
from gateway.console.i18n import _, ngettext
from gateway.console.pages import page
from gateway.keys import LOGIN_THROTTLE, SETTINGS, STORE

log = structlog.get_logger(__name__)
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
    """Check the password unless the throttle says to wait; count and log failures."""
    form = await request.post()
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    target = str(form.get("next", ""))
    throttle, address = request.app[LOGIN_THROTTLE], request.remote or ""
    verdict = throttle.check(username, address)
    if not verdict.allowed:
        wait = math.ceil(verdict.wait)
        minutes = math.ceil(wait / 60)
        said = (ngettext("Too many failed logins: try again in %(num)d minute.",
                         "Too many failed logins: try again in %(num)d minutes.", minutes)
                % {"num": minutes} if verdict.locked
                else ngettext("Too many failed logins: wait %(num)d second and try again.",
                              "Too many failed logins: wait %(num)d seconds and try again.",
                              wait) % {"num": wait})
        response = _login_form(request, target=target, username=username, status=429,
                               error=said)
        response.headers["Retry-After"] = str(wait)
        return response
    store = request.app[STORE]
    operator = await auth.authenticate(store, username, password)
    if operator is None:
        locked = throttle.failed(username, address)
        # the username only if it is an account: a password typed into it is never logged
        account = username if await store.operator_by_username(username) else None
        log.warning("security.login_failed", account=account, address=address)
        if locked:
            log.warning("security.login_locked", account=account, address=address,
                        minutes=request.app[SETTINGS].console.login.lockout_minutes)
        return _login_form(request, target=target, username=username,
                           error=_("Wrong username or password."), status=401)
    throttle.succeeded(username)
    response = web.HTTPSeeOther(safe_next(target))
    await auth.logout(request, response)  # drop any previous session: a new id at each login
    await auth.login(request, response, operator)
    raise response


@routes.post(f"{PREFIX}/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    response = web.HTTPSeeOther(LOGIN)
    await auth.logout(request, response)
    raise response
