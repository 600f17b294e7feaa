"""The operator console at `/console`: server-rendered pages for the people behind the bot.

Operators log in, see the open tickets of their queues, read a conversation with what the
bot tried, and reply, take, note or close; pages follow changes live over `/console/ws`.
See docs/console.md.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from gateway.access.login_throttle import LoginThrottle
from gateway.console import (
    admin,
    attachments,
    bulk,
    callbacks,
    campaigns,
    dashboards,
    guard,
    kb_gaps,
    language,
    live,
    login,
    macros,
    notifications,
    pages,
    quarantine,
    replying,
    reports,
    routes,
    search,
    split,
)
from gateway.keys import LOGIN_THROTTLE, SETTINGS

STATIC = Path(__file__).parent / "static"


def setup(app: web.Application) -> None:
    app[LOGIN_THROTTLE] = LoginThrottle(app[SETTINGS].console.login)
    pages.setup(app)
    app.middlewares.append(guard.guard)
    app.on_response_prepare.append(guard.security_headers)
    app.add_routes(login.routes)
    app.add_routes(routes.routes)
    app.add_routes(replying.routes)
    app.add_routes(search.routes)
    app.add_routes(macros.routes)
    app.add_routes(bulk.routes)
    app.add_routes(admin.routes)
    app.add_routes(quarantine.routes)
    app.add_routes(reports.routes)
    app.add_routes(dashboards.routes)
    app.add_routes(kb_gaps.routes)
    app.add_routes(attachments.routes)
    app.add_routes(callbacks.routes)
    app.add_routes(campaigns.routes)
    app.add_routes(language.routes)
    app.add_routes(notifications.routes)
    app.add_routes(split.routes)
    live.setup(app)
    app.router.add_static(guard.STATIC, STATIC, name="console-static")
