"""`/chat/static/widget.js`: the widget, joined from its parts in connectors/webchat/widget/.

One script for embedders (one tag, one request), kept in small files that share one function
scope: the shell (labels, launcher, dialog), the conversation log, the connection. Served as
UTF-8 whatever the embedding page's own encoding (the labels are not ASCII).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

PARTS = Path(__file__).parent / "widget"
ORDER = ("shell.js", "messages.js", "follow_up.js", "connection.js")
#: What the widget is, for whoever opens the file in a browser.
HEADER = """\
// helpdesk-gateway web chat widget: one WebSocket, reconnect with backoff, nothing lost.
// Unacknowledged messages live in localStorage and are resent after a reconnect; the
// gateway deduplicates them by client_id. Customer text is always rendered as text.
// The session is the gateway's: hello offers the stored one, welcome says which one to keep
// (a new one when the gateway does not know the stored one). A site that knows its customer
// passes data-customer-id and data-customer-hash (HMAC-SHA256 of the id, computed by the
// site's server) on the script tag: each signed customer keeps a conversation of their own.
// A mailed follow-up link (?hgw-continue=...) continues its conversation on this device.
// Sources: connectors/webchat/widget/ in helpdesk-gateway.
"""
WIDGET: web.AppKey[bytes] = web.AppKey("webchat_widget", bytes)


def widget_source() -> bytes:
    """The parts in order, inside one strict-mode function (nothing leaks to the page)."""
    body = "\n".join((PARTS / name).read_text(encoding="utf-8") for name in ORDER)
    return f'{HEADER}(function () {{\n  "use strict";\n{body}}})();\n'.encode()


async def widget(request: web.Request) -> web.Response:
    return web.Response(body=request.app[WIDGET], content_type="text/javascript",
                        charset="utf-8", headers={"Cache-Control": "public, max-age=300"})


def setup(app: web.Application) -> None:
    """Read once at start-up; registered before the static files so it takes the path."""
    app[WIDGET] = widget_source()
    app.router.add_get("/chat/static/widget.js", widget)
