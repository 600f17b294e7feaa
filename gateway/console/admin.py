"""`/console/admin`: the team as admins manage it: operators with their role, queues,
languages and presence, and a form to create an operator. Everyone else gets 403.

Creating an operator here does what `helpdesk-gateway create-operator` does (Argon2 hash,
`Store.create_operator`), with the same rules: a password of at least 8 characters, queues
and languages among those configured.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.auth import hash_password
from gateway.console import alerts, queries
from gateway.console.guard import PREFIX, Refused
from gateway.console.pages import SESSION, page
from gateway.keys import KB, SETTINGS, STORE
from gateway.models import Operator
from gateway.routing import DEFAULT_CAPACITY, operator_load
from gateway.settings import Settings

ADMIN = f"{PREFIX}/admin"
ROLES = ("agent", "supervisor", "admin")
MIN_PASSWORD = 8
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")

routes = web.RouteTableDef()


@dataclass(frozen=True)
class OperatorRow:
    operator: Operator
    presence: str
    capacity: int
    load: int


def _admin_only(request: web.Request) -> Operator:
    operator = request[SESSION].operator
    if operator.role != "admin":
        raise Refused(403, "This page is for admins.")
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
        "alerts": await alerts.sla_alerts(store, request[SESSION].operator),
    }, status=status)


@routes.get(ADMIN)
async def admin_page(request: web.Request) -> web.StreamResponse:
    _admin_only(request)
    created = request.query.get("created", "")
    done = None
    if created and await request.app[STORE].operator_by_username(created):
        done = f"Operator {created} created."
    return await _page(request, done=done)


def _checked(settings: Settings, posted: Any) -> tuple[dict[str, Any], str | None]:
    """The new operator's fields from the form, and the first problem found (or None)."""
    form: dict[str, Any] = {
        "username": str(posted.get("username", "")).strip().lower(),
        "display_name": str(posted.get("display_name", "")).strip(),
        "role": str(posted.get("role", "")),
        "queues": [str(q) for q in posted.getall("queues", [])],
        "languages": [str(lang) for lang in posted.getall("languages", [])],
    }
    password = str(posted.get("password", ""))
    queues = {q.name for q in settings.queues}
    if not USERNAME.fullmatch(form["username"]):
        return form, ("The username needs 2 to 64 characters: lower-case letters, digits, "
                      "dots, dashes or underscores, starting with a letter or digit.")
    if len(form["display_name"]) > 100:
        return form, "The display name is limited to 100 characters."
    if form["role"] not in ROLES:
        return form, f"The role must be one of: {', '.join(ROLES)}."
    if not set(form["queues"]) <= queues:
        return form, "Choose queues among those configured."
    if form["role"] == "agent" and not form["queues"]:
        return form, "An agent needs at least one queue."
    if not set(form["languages"]) <= set(settings.languages.supported):
        return form, "Choose languages among those supported."
    if not form["languages"]:
        return form, "Choose at least one language."
    if len(password) < MIN_PASSWORD:
        return form, f"The initial password needs at least {MIN_PASSWORD} characters."
    return form, None


@routes.post(f"{ADMIN}/operators")
async def create_operator(request: web.Request) -> web.StreamResponse:
    _admin_only(request)
    posted = await request.post()
    store = request.app[STORE]
    form, problem = _checked(request.app[SETTINGS], posted)
    if problem is None and await store.operator_by_username(form["username"]) is not None:
        problem = f"There is already an operator named {form['username']}."
        return await _page(request, form=form, error=problem, status=409)
    if problem is not None:
        return await _page(request, form=form, error=problem, status=400)
    await store.create_operator(
        form["username"], form["display_name"] or form["username"],
        hash_password(str(posted.get("password", ""))), form["role"],
        languages=form["languages"], queues=form["queues"])
    raise web.HTTPSeeOther(f"{ADMIN}?created={form['username']}")
