"""The operator's console language: a choice in the header, stored on the operator.

An empty choice goes back to following the browser (Accept-Language), then the desk's
default (`[languages] default`). The page the operator was on comes back in the new language.
"""

from __future__ import annotations

from aiohttp import web

from gateway.console.guard import PREFIX, Refused, safe_next
from gateway.console.i18n import LOCALES, _
from gateway.console.pages import SESSION
from gateway.keys import STORE

routes = web.RouteTableDef()


@routes.post(f"{PREFIX}/language")
async def choose_language(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    wanted = str(form.get("language", "")).strip()
    if wanted and wanted not in LOCALES:
        raise Refused(400, _("The console speaks: %(languages)s.")
                      % {"languages": ", ".join(LOCALES)})
    await request.app[STORE].set_operator_locale(request[SESSION].operator.id, wanted or None)
    raise web.HTTPSeeOther(safe_next(str(form.get("next", ""))))
