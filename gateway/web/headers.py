"""Security headers on every response: the chat page, the widget's files, the API, health
checks, errors and redirects, not only the console (which adds its stricter CSP on top).

Only the chat page (`/`) may be framed, and only by the origins in
`[webchat] frame_ancestors`; HSTS is sent when the console's cookies are marked secure
(the gateway is behind HTTPS); `Server` names no software version.
"""

from __future__ import annotations

from aiohttp import web

from gateway.keys import SETTINGS

SERVER = "helpdesk-gateway"
#: HSTS lifetime: one year, the usual minimum for browsers' preload lists.
HSTS = "max-age=31536000"
_FRAMEABLE = "/"


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: runs for every response, WebSocket upgrades included."""
    settings = request.app[SETTINGS]
    headers = response.headers
    headers["Server"] = SERVER
    headers["X-Content-Type-Options"] = "nosniff"
    headers.setdefault("Referrer-Policy", "same-origin")  # a page may ask for less (surveys)
    ancestors = settings.webchat.frame_ancestors
    if request.path == _FRAMEABLE and ancestors:
        headers.setdefault("Content-Security-Policy",
                           "frame-ancestors 'self' " + " ".join(ancestors))
    else:
        headers["X-Frame-Options"] = "DENY"
        headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    if settings.console.secure_cookies:
        headers["Strict-Transport-Security"] = HSTS


def setup(app: web.Application) -> None:
    # first: the console's own handler then replaces the CSP with its stricter one
    app.on_response_prepare.insert(0, security_headers)
