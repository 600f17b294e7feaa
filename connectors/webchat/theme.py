"""The widget's look from `[webchat]`: colours and position as CSS custom properties, served
as /chat/theme.css next to the fixed widget.css (which falls back to the demo's look)."""

from __future__ import annotations

from aiohttp import web

from gateway.config.web import WebChatSettings
from gateway.keys import SETTINGS

#: A changed colour reaches browsers within five minutes.
MAX_AGE = 300


def theme_css(settings: WebChatSettings) -> str:
    """Only validated values (colours matching #rgb/#rrggbb, a side) reach the stylesheet."""
    left, right = ("1.5rem", "auto") if settings.position == "left" else ("auto", "1.5rem")
    return (f".hgw-chat, .hgw-launcher {{ --hgw-accent: {settings.accent_color}; "
            f"--hgw-on-accent: {settings.accent_text_color}; --hgw-left: {left}; "
            f"--hgw-right: {right}; }}\n")


async def theme(request: web.Request) -> web.Response:
    return web.Response(text=theme_css(request.app[SETTINGS].webchat), content_type="text/css",
                        headers={"Cache-Control": f"public, max-age={MAX_AGE}"})
