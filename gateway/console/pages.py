"""Rendering console pages: the Jinja2 environment (autoescape on) and one `page` helper.

Every page gets the logged-in operator and the CSRF token, so no template can forget the
token in a form, and no handler has to pass them by hand. Pages speak the request's language
(`gateway.console.i18n`): `{% trans %}`, `_()` and `ngettext` in the templates, dates and
relative times formatted by Babel for that language in the desk's time zone.
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
from babel.numbers import format_decimal
from markupsafe import Markup

from gateway.console import i18n
from gateway.console.labels import label
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
    """A moment in the desk's time zone, to the minute, with the zone's abbreviation, in the
    request's language ("02 Mar 2026 14:05 CET", "2 mars 2026 14:05 CET"): the desk works
    in local time. `utc` is its tooltip. The date's and the time's texts are kept per
    language (`i18n.day_text`, `i18n.clock_text`): Babel formatting each was most of a
    list page's rendering."""
    local, language = moment.astimezone(zone), i18n.current()
    return (f"{i18n.day_text(local.date(), language)} "
            f"{i18n.clock_text(local.hour, local.minute, language)} {local.tzname() or ''}")


def ago(moment: datetime, now: datetime | None = None) -> str:
    """How far a moment is from now, in the request's language ("il y a 3 h", "over 9 min.")."""
    return i18n.relative(moment - (now or datetime.now(UTC)))


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def number(value: int | float) -> str:
    """A figure in the request's language ("1,234", "1.234", "1 234")."""
    return format_decimal(value, locale=i18n.format_locale())


def iso(moment: datetime) -> str:
    return moment.isoformat()


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(app, app_key=ENV, loader=jinja2.FileSystemLoader(TEMPLATES),
                               autoescape=True, default_helpers=False, trim_blocks=True,
                               lstrip_blocks=True, extensions=["jinja2.ext.i18n"],
                               undefined=jinja2.StrictUndefined,
                               filters=_filters(desk_zone(app)))
    install_gettext(env)


def install_gettext(env: jinja2.Environment) -> None:
    """Once per environment: the callables read the request's language themselves.

    Jinja's own newstyle callables (`install_gettext_callables`) go through two
    `Context.call`s per message and `Markup % {}` even when a message has no placeholder
    (a list page says some 200 messages); `template_gettext`/`template_ngettext` do what
    they do, for this environment, whose templates are all autoescaped."""
    assert env.autoescape is True  # what the callables below assume of every template
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True)
    env.globals.update(gettext=template_gettext, ngettext=template_ngettext,
                       _=template_gettext)
    env.globals["language"] = i18n.current
    env.globals["language_names"] = i18n.language_names()
    env.globals["script_messages"] = i18n.script_messages


def template_gettext(message: str, /, **variables: Any) -> Markup:
    """`{{ _("…", name=value) }}` and `{% trans %}`: Jinja's newstyle gettext under
    autoescape (the translation as markup, formatted with the escaped variables), without
    the formatting when there is nothing to format: no variable and no `%` in the text."""
    said = Markup(i18n.gettext(message))
    return said % variables if variables or "%" in said else said


def template_ngettext(singular: str, plural: str, num: int, /, **variables: Any) -> Markup:
    """Jinja's newstyle ngettext under autoescape (`num` is a variable too)."""
    variables.setdefault("num", num)
    return Markup(i18n.ngettext(singular, plural, num)) % variables


def _filters(zone: ZoneInfo) -> dict[str, Callable[..., str]]:
    return {"when": partial(when, zone=zone), "utc": utc, "iso": iso, "ago": ago,
            "label": label, "number": number}


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
