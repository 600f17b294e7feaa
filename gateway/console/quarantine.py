"""`/console/admin/quarantine`: mail the gateway could not take in, for admins to act on.

A mail that cannot be processed is kept in quarantine rather than lost (docs/email.md).
Here an admin sees why, downloads the raw mail (`.eml`, always as a download, never
rendered), reprocesses it after a fix, or deletes it. Reprocessing needs the e-mail
channel; a mail that still cannot be taken in stays, with the reason shown.
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from aiohttp import web

from gateway.channels import ChannelState, Reprocessing
from gateway.console.admin import ADMIN, admin_only
from gateway.console.guard import Refused
from gateway.console.i18n import N_, _
from gateway.console.pages import page
from gateway.console.routes import common
from gateway.keys import CHANNEL_STATES, CONNECTORS, STORE

log = structlog.get_logger(__name__)

QUARANTINE = f"{ADMIN}/quarantine"

routes = web.RouteTableDef()


async def _page(request: web.Request, *, done: str | None = None, error: str | None = None,
                status: int = 200) -> web.Response:
    store, connectors = request.app[STORE], request.app[CONNECTORS]
    entries = [{**entry, "channel": state.channel}
               for state in request.app[CHANNEL_STATES]
               for entry in await state.quarantined(store)]
    return page(request, "quarantine.html", {
        "entries": entries,
        "can_reprocess": any(isinstance(connectors.get(e["channel"]), Reprocessing)
                             for e in entries),
        "done": done, "error": error, **await common(request),
    }, status=status)


async def _entry(request: web.Request, entry_id: str) -> tuple[ChannelState, dict[str, Any]]:
    """The quarantined item and the channel state that holds it."""
    for state in request.app[CHANNEL_STATES]:
        for entry in await state.quarantined(request.app[STORE]):
            if entry["id"] == entry_id:
                return state, entry
    raise Refused(404, _("That mail is no longer in quarantine."))


@routes.get(QUARANTINE)
async def quarantine_page(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    said = {"deleted": N_("The mail was deleted."),
            "reprocessed": N_("The mail was taken in: it is in the conversations now.")}.get(
                request.query.get("done", ""))
    return await _page(request, done=_(said) if said else None)


@routes.get(f"{QUARANTINE}/raw")
async def raw_mail(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    state, entry = await _entry(request, request.query.get("id", ""))
    raw = await state.quarantined_raw(request.app[STORE], entry["id"])
    if raw is None:
        raise Refused(404, _("That mail is no longer in quarantine."))
    name = re.sub(r"[^A-Za-z0-9._-]", "-", entry["id"])
    return web.Response(body=raw, content_type="message/rfc822", headers={
        "Content-Disposition": f'attachment; filename="quarantine-{name}.eml"',
        "X-Content-Type-Options": "nosniff"})


@routes.post(f"{QUARANTINE}/delete")
async def delete_mail(request: web.Request) -> web.StreamResponse:
    operator = admin_only(request)
    state, entry = await _entry(request, str((await request.post()).get("id", "")))
    await state.release(request.app[STORE], entry["id"])
    await request.app[STORE].add_event(operator.username, "email.quarantine_deleted",
                                       data={"id": entry["id"]})
    raise web.HTTPSeeOther(f"{QUARANTINE}?done=deleted")


@routes.post(f"{QUARANTINE}/reprocess")
async def reprocess_mail(request: web.Request) -> web.StreamResponse:
    operator = admin_only(request)
    state, entry = await _entry(request, str((await request.post()).get("id", "")))
    connector = request.app[CONNECTORS].get(state.channel)
    if not isinstance(connector, Reprocessing):
        return await _page(request, status=409, error=_("E-mail is not configured on this gateway "
                                   "([email] enabled = false): the mail cannot be taken in."))
    try:
        await connector.reprocess(entry["id"])
    except Exception as exc:  # whatever stopped it the first time: it stays, say why
        log.warning("email.reprocess_failed", id=entry["id"], error=str(exc)[:200])
        return await _page(request, status=422,
                           error=_("The mail still cannot be taken in: %(error)s. It stays "
                                   "here.") % {"error": exc})
    await request.app[STORE].add_event(operator.username, "email.quarantine_reprocessed",
                                       data={"id": entry["id"]})
    raise web.HTTPSeeOther(f"{QUARANTINE}?done=reprocessed")
