"""`POST /chat/files/{id}`: the customer downloads a file of their own conversation.

The files an operator sends with a reply are listed in the reply's frame (`listed`: id,
name, type, size; the bytes are in the store, saved with the reply). The widget fetches
one with its session secret in the form body (a "simple" cross-origin request, no
preflight; the secret never goes into a URL, a log or a Referer): only a session whose
conversation holds the file gets it; any other, or an unknown file, the same 404. The file
always goes out as a download (`application/octet-stream`, `nosniff`), never rendered.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from connectors.webchat.sessions import origin_allowed, resumable, with_cors
from gateway.console.attachments import content_disposition
from gateway.ids import parse_id
from gateway.keys import STORE
from gateway.models import Conversation
from gateway.store.attachments import attachment

NOT_FOUND = "no such file"


def listed(meta: dict[str, Any]) -> dict[str, Any]:
    """The reply frame's `files` (what the widget shows and asks for), if it has any."""
    files = [{"id": int(f["id"]), "name": str(f.get("name") or "attachment"),
              "type": str(f.get("type") or ""), "size": int(f.get("size") or 0)}
             for f in meta.get("files") or [] if isinstance(f, dict) and "id" in f]
    return {"files": files} if files else {}


async def download(request: web.Request) -> web.Response:
    if not origin_allowed(request):
        raise web.HTTPForbidden(text="origin not allowed")
    form = await request.post()
    session = form.get("session")
    conversation = await resumable(request.app, session if isinstance(session, str) else None)
    attachment_id = parse_id(request.match_info["attachment_id"])
    found = None
    if isinstance(conversation, Conversation) and attachment_id is not None:
        found = await attachment(request.app[STORE], attachment_id)
    if found is not None:
        row = await request.app[STORE].db.fetchone(
            "SELECT conversation_id FROM messages WHERE id = ?", found.meta.message_id)
        assert isinstance(conversation, Conversation)
        if row is None or int(row["conversation_id"]) != conversation.id:
            found = None
    if found is None or found.data is None:
        return with_cors(request, web.json_response({"error": NOT_FOUND}, status=404))
    return with_cors(request, web.Response(body=found.data, headers={
        "Content-Type": "application/octet-stream",
        "Content-Disposition": content_disposition(found.meta.filename),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
    }))
