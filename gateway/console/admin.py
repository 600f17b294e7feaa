"""`/console/admin`: the team as admins manage it: operators with their role, queues,
languages and presence, a form to create an operator and one to change an operator.
Everyone else gets 403.

Creating an operator here does what `helpdesk-gateway create-operator` does (Argon2 hash,
`Store.create_operator`), with the same rules: the password policy of gateway/passwords.py,
queues and languages among those configured. Deactivating an operator (someone who left) logs
them out everywhere and puts their tickets back in their queues, so no customer waits on
a person who will not answer; the history keeps their name.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway import passwords
from gateway.access.auth import hash_password
from gateway.config.settings import Settings
from gateway.console import channel_status, queries
from gateway.console.guard import PREFIX, Refused
from gateway.console.i18n import LOCALES, N_, _, ngettext
from gateway.console.pages import SESSION, page
from gateway.console.routes import common
from gateway.keys import CHANNEL_STATES, CONNECTORS, KB, SETTINGS, STORE, TICKETS
from gateway.models import Operator
from gateway.tickets.routing import DEFAULT_CAPACITY, operator_load

ADMIN = f"{PREFIX}/admin"
ROLES = ("agent", "supervisor", "admin")
MIN_PASSWORD = passwords.MIN_LENGTH
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")

routes = web.RouteTableDef()


@dataclass(frozen=True)
class OperatorRow:
    operator: Operator
    presence: str
    capacity: int
    load: int


def admin_only(request: web.Request) -> Operator:
    operator = request[SESSION].operator
    if operator.role != "admin":
        raise Refused(403, _("This page is for admins."))
    return operator


async def _page(request: web.Request, *, form: Mapping[str, Any] | None = None,
                error: str | None = None, done: str | None = None,
                status: int = 200) -> web.Response:
    store, settings = request.app[STORE], request.app[SETTINGS]
    statuses = await queries.operator_statuses(store)
    load = await operator_load(store)
    rows = []
    for operator in await store.operators():
        found = statuses.get(operator.id)
        rows.append(OperatorRow(operator, found.presence if found else "away",
                                found.capacity if found else DEFAULT_CAPACITY,
                                load.get(operator.id, 0)))
    queues = [q.name for q in settings.queues]
    languages = list(settings.languages.supported)
    return page(request, "admin.html", {
        "rows": rows, "roles": ROLES, "all_queues": queues, "all_languages": languages,
        "form": form or {"username": "", "display_name": "", "role": "agent",
                         "queues": queues, "languages": languages},
        "error": error, "done": done, "min_password": MIN_PASSWORD,
        "kb_errors": request.app[KB].errors,
        "channels": channel_status.statuses(request.app[CONNECTORS]),
        "quarantined": sum([len(await state.quarantined(store))
                            for state in request.app[CHANNEL_STATES]]), **await common(request),
    }, status=status)


@routes.get(ADMIN)
async def admin_page(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    done = None
    for key, said in (("created", N_("Operator %(name)s created.")),
                      ("updated", N_("Operator %(name)s updated."))):
        name = request.query.get(key, "")
        if name and await request.app[STORE].operator_by_username(name):
            done = _(said) % {"name": name}
    released = request.query.get("released", "")
    if done and released.isdigit() and int(released):
        done += " " + ngettext("%(num)d ticket went back to its queue.",
                               "%(num)d tickets went back to their queues.",
                               int(released)) % {"num": int(released)}
    return await _page(request, done=done)


def _checked(settings: Settings, posted: Any, *,
             existing: str | None = None) -> tuple[dict[str, Any], str | None]:
    """The operator's fields from the form, and the first problem found (or None).

    A new operator names their username and needs a password; when changing the `existing`
    operator, the username stays and an empty password keeps theirs.
    """
    new = existing is None
    form: dict[str, Any] = {
        "username": existing or str(posted.get("username", "")).strip().lower(),
        "display_name": str(posted.get("display_name", "")).strip(),
        "role": str(posted.get("role", "")),
        "queues": [str(q) for q in posted.getall("queues", [])],
        "languages": [str(lang) for lang in posted.getall("languages", [])],
        "active": new or posted.get("active") == "on",
        "locale": str(posted.get("locale", "")),
    }
    password = str(posted.get("password", ""))
    queues = {q.name for q in settings.queues}
    if not USERNAME.fullmatch(form["username"]):
        return form, _("The username needs 2 to 64 characters: lower-case letters, digits, "
                       "dots, dashes or underscores, starting with a letter or digit.")
    if len(form["display_name"]) > 100:
        return form, _("The display name is limited to 100 characters.")
    if form["role"] not in ROLES:
        return form, _("The role must be one of: %(roles)s.") % {"roles": ", ".join(ROLES)}
    if not set(form["queues"]) <= queues:
        return form, _("Choose queues among those configured.")
    if form["role"] == "agent" and not form["queues"]:
        return form, _("An agent needs at least one queue.")
    if not set(form["languages"]) <= set(settings.languages.supported):
        return form, _("Choose languages among those supported.")
    if not form["languages"]:
        return form, _("Choose at least one language.")
    if form["locale"] and form["locale"] not in LOCALES:
        return form, _("The console speaks: %(languages)s.") % {"languages": ", ".join(LOCALES)}
    refused = passwords.rule(password, form["username"]) if new or password else None
    if refused:
        return form, passwords.explain(_(refused))
    return form, None


@routes.post(f"{ADMIN}/operators")
async def create_operator(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    posted = await request.post()
    store = request.app[STORE]
    form, problem = _checked(request.app[SETTINGS], posted)
    if problem is None and await store.operator_by_username(form["username"]) is not None:
        problem = _("There is already an operator named %(name)s.") % {"name": form["username"]}
        return await _page(request, form=form, error=problem, status=409)
    if problem is not None:
        return await _page(request, form=form, error=problem, status=400)
    await store.create_operator(
        form["username"], form["display_name"] or form["username"],
        await asyncio.to_thread(hash_password, str(posted.get("password", ""))), form["role"],
        languages=form["languages"], queues=form["queues"])
    raise web.HTTPSeeOther(f"{ADMIN}?created={form['username']}")


async def _operator(request: web.Request) -> Operator:
    found = await request.app[STORE].operator_by_username(request.match_info["username"])
    if found is None:
        raise Refused(404, _("There is no such operator."))
    return found


async def _edit_page(request: web.Request, operator: Operator, *,
                     form: Mapping[str, Any] | None = None, error: str | None = None,
                     status: int = 200) -> web.Response:
    settings = request.app[SETTINGS]
    return page(request, "operator.html", {
        "operator": operator, "roles": ROLES, "min_password": MIN_PASSWORD,
        "all_queues": [q.name for q in settings.queues],
        "all_languages": list(settings.languages.supported),
        "form": form or {"display_name": operator.display_name, "role": operator.role,
                         "queues": operator.queues, "languages": operator.languages,
                         "active": operator.active, "locale": operator.locale or ""},
        "error": error, **await common(request),
    }, status=status)


@routes.get(f"{ADMIN}/operators/{{username}}")
async def edit_operator_page(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    return await _edit_page(request, await _operator(request))


@routes.post(f"{ADMIN}/operators/{{username}}")
async def edit_operator(request: web.Request) -> web.StreamResponse:
    """Change an operator; deactivating logs them out and hands their tickets back."""
    me = admin_only(request)
    operator = await _operator(request)
    posted = await request.post()
    form, problem = _checked(request.app[SETTINGS], posted, existing=operator.username)
    if problem is None and operator.id == me.id and not (form["active"]
                                                         and form["role"] == "admin"):
        problem = _("You cannot deactivate yourself or give up your own admin role: "
                    "another admin must do it, so the team never loses its last admin.")
    if problem is not None:
        return await _edit_page(request, operator, form=form, error=problem, status=400)
    store = request.app[STORE]
    updated = await store.update_operator(
        operator.id, display_name=form["display_name"] or operator.username,
        role=form["role"], languages=form["languages"], queues=form["queues"],
        active=form["active"])
    await store.set_operator_locale(operator.id, form["locale"] or None)
    password = str(posted.get("password", ""))
    if password:
        await store.set_operator_password(operator.id,
                                          await asyncio.to_thread(hash_password, password))
    released = 0
    if password or not updated.active:
        await store.delete_sessions_of(operator.id)
    if not updated.active:
        released = len(await request.app[TICKETS].release(me, updated, "operator deactivated"))
    raise web.HTTPSeeOther(f"{ADMIN}?updated={operator.username}&released={released}")
