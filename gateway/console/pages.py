"""Rendering console pages: the Jinja2 environment (autoescape on) and one `page` helper.

Every page gets the logged-in operator and the CSRF token, so no template can forget the
token in a form, and no handler has to pass them by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web

from gateway.keys import SETTINGS
from gateway.models import Operator
from gateway.tickets.routing import DEFAULT_CAPACITY

TEMPLATES = Path(__file__).parent / "templates"
UTC_ZONE = ZoneInfo("UTC")
ENV: web.AppKey[jinja2.Environment] = web.AppKey("console_templates", jinja2.Environment)


@dataclass(frozen=True)
class Session:
    operator: Operator
    csrf: str
    #: As set in the console header (`gateway.tickets.routing.set_presence`); never set: away.
    presence: str = "away"
    capacity: int = DEFAULT_CAPACITY


#: Set by the guard middleware on every authenticated console request.
SESSION: web.RequestKey[Session] = web.RequestKey("console_session", Session)


def when(moment: datetime, zone: ZoneInfo = UTC_ZONE) -> str:
    """A moment in the desk's time zone, to the minute, with the zone's abbreviation
    ("2026-03-02 14:05 CET"): the desk works in local time. `utc` is its tooltip."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(moment: datetime) -> str:
    return moment.isoformat()


def setup(app: web.Application) -> None:
    aiohttp_jinja2.setup(app, app_key=ENV, loader=jinja2.FileSystemLoader(TEMPLATES),
                         autoescape=True, default_helpers=False, trim_blocks=True,
                         lstrip_blocks=True,
                         undefined=jinja2.StrictUndefined,
                         filters=_filters(desk_zone(app)))


def _filters(zone: ZoneInfo) -> dict[str, Callable[..., str]]:
    return {"when": partial(when, zone=zone), "utc": utc, "iso": iso}


def desk_zone(app: web.Application) -> ZoneInfo:
    """The desk calendar's time zone (`[calendar] timezone`), in which pages show times."""
    return ZoneInfo(app[SETTINGS].calendar.timezone)


def page(request: web.Request, template: str, context: dict[str, Any] | None = None,
         status: int = 200) -> web.Response:
    session = request.get(SESSION)
    # Where the header's forms come back to: this page (a form's result page: the list).
    here = str(request.rel_url.without_query_params("done")) if request.method == "GET" \
        else "/console"
    full = {"session": session, "live": None, "here": here, **(context or {})}
    return aiohttp_jinja2.render_template(template, request, full, status=status, app_key=ENV)


def error_page(request: web.Request, status: int, message: str) -> web.Response:
    return page(request, "error.html", {"status": status, "message": message}, status=status)
