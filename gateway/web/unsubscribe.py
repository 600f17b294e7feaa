"""`/unsubscribe/{token}`: the link on every campaign message. GET shows a page with one
button (a mail scanner following links must not unsubscribe anyone); POST unsubscribes,
which is also RFC 8058's one-click (`List-Unsubscribe=One-Click` posted by the mail
client). The token is signed per recipient; the opt-out covers the template's category."""

from __future__ import annotations

import html

from aiohttp import web

from gateway import signed_links
from gateway.keys import CAMPAIGNS, STORE
from gateway.outreach.campaigns import PURPOSE

_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8">
<title>Unsubscribe</title><main><h1>{title}</h1><p>{text}</p>{form}</main></html>"""


async def _recipient(request: web.Request) -> int | None:
    secret = await request.app[STORE].link_secret()
    try:
        return signed_links.verify(secret, PURPOSE, request.match_info["token"])
    except signed_links.LinkInvalid:
        return None


def _page(title: str, text: str, form: str = "", status: int = 200) -> web.Response:
    return web.Response(text=_PAGE.format(title=title, text=text, form=form), status=status,
                        content_type="text/html")


async def unsubscribe_page(request: web.Request) -> web.Response:
    if await _recipient(request) is None:
        return _page("Link not valid", "This unsubscribe link is not valid any more.",
                     status=404)
    token = html.escape(request.match_info["token"])
    return _page("Unsubscribe", "Stop receiving these messages?",
                 f'<form method="post" action="/unsubscribe/{token}">'
                 '<button type="submit">Unsubscribe</button></form>')


async def unsubscribe(request: web.Request) -> web.Response:
    recipient_id = await _recipient(request)
    if recipient_id is None:
        return _page("Link not valid", "This unsubscribe link is not valid any more.",
                     status=404)
    category = await request.app[CAMPAIGNS].unsubscribe(recipient_id)
    if category is None:
        return _page("Link not valid", "This unsubscribe link is not valid any more.",
                     status=404)
    return _page("Unsubscribed", "You will not receive these messages any more.")


def setup(app: web.Application) -> None:
    app.router.add_get("/unsubscribe/{token}", unsubscribe_page)
    app.router.add_post("/unsubscribe/{token}", unsubscribe)
