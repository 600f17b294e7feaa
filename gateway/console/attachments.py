"""Download of a customer's attachment from the console: `GET /console/attachments/{id}`.

Only an operator who may open a ticket of the message's conversation gets the file (the
same rule that shows them the transcript listing it); anyone else gets the same 404 as for
a file that does not exist, so neither bytes nor existence leak. The file always goes out
as a download (`application/octet-stream`, `nosniff`, `Content-Disposition: attachment`):
the sender's content type is never trusted, so customer HTML or SVG is never rendered
inside the console's origin.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from aiohttp import web

from gateway.console.guard import PREFIX, Refused
from gateway.console.i18n import _
from gateway.console.pages import SESSION
from gateway.errors import AccessDenied
from gateway.ids import parse_id
from gateway.keys import STORE, TICKETS
from gateway.models import Operator
from gateway.store.attachments import attachment
from gateway.tickets.service import TicketService

routes = web.RouteTableDef()

NOT_FOUND = "There is no such attachment."
#: Characters kept in the plain `filename=` fallback for old clients.
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")
MAX_NAME_CHARS = 150


def safe_filename(name: str) -> str:
    """The sender's file name made harmless: no path, no control or quote characters,
    no leading dots, bounded length; "attachment" when nothing is left."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and c not in "\"'<>:*?|")
    name = " ".join(name.split()).lstrip(". ")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot and stem else ""
        name = name[:MAX_NAME_CHARS - len(ext) - 1].rstrip() + ("." + ext if ext else "")
    return name or "attachment"


def content_disposition(name: str) -> str:
    """RFC 6266 `attachment` with an ASCII fallback and the RFC 5987 UTF-8 name."""
    safe = safe_filename(name)
    fallback = _ASCII_UNSAFE.sub("_", safe) or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(safe, safe='')}"


async def _may_see(service: TicketService, operator: Operator, conversation_id: int) -> bool:
    """Whether the operator may open any ticket of the conversation (TicketService.get)."""
    rows = await service.store.db.fetchall(
        "SELECT id FROM tickets WHERE conversation_id = ? ORDER BY id DESC", conversation_id)
    for row in rows:
        try:
            await service.get(operator, int(row["id"]))
        except (AccessDenied, LookupError):
            continue
        return True
    return False


@routes.get(PREFIX + r"/attachments/{attachment_id:\d+}")
async def download(request: web.Request) -> web.StreamResponse:
    store, service = request.app[STORE], request.app[TICKETS]
    operator = request[SESSION].operator
    attachment_id = parse_id(request.match_info["attachment_id"])
    found = await attachment(store, attachment_id) if attachment_id is not None else None
    if found is None:
        raise Refused(404, NOT_FOUND)
    row = await store.db.fetchone("SELECT conversation_id FROM messages WHERE id = ?",
                                  found.meta.message_id)
    if row is None or not await _may_see(service, operator, int(row["conversation_id"])):
        raise Refused(404, NOT_FOUND)
    if found.data is None:
        raise Refused(404, _("This attachment was too large and was not stored."))
    return web.Response(body=found.data, headers={
        "Content-Type": "application/octet-stream",
        "Content-Disposition": content_disposition(found.meta.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    })
