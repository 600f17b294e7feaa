"""`POST /chat/upload`: a photo or a PDF from the widget, stored like an e-mail's attachments.

Multipart form fields `session`, `client_id`, optional `text` and one `file`: a "simple"
cross-origin request (no custom header, so no preflight), answered with CORS headers for the
origins the socket accepts. The session must be one the gateway issued; the file's type is
read from its first bytes (the browser's claim is ignored) and must be in
`[webchat] attachment_types`; the size is bounded while reading. The message then goes
through the pipeline like a typed one, deduplicated by `client_id` (with the socket's signed
customer when the form repeats their `customer_id` and `customer_hash`).
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from aiohttp import BodyPartReader, web

from connectors.webchat import identity
from connectors.webchat.sessions import (
    LIMITS,
    address_of,
    inbound_for,
    origin_allowed,
    resumable,
    with_cors,
)
from gateway.channels import InboundAttachment
from gateway.errors import StoreError
from gateway.filetypes import size_text as _size
from gateway.filetypes import sniff
from gateway.keys import PIPELINE, SETTINGS, STORE
from gateway.models import Conversation
from gateway.storable import storable
from gateway.store.attachments import save_attachments

log = structlog.get_logger(__name__)

_FIELD_BYTES = 8 * 1024


@dataclass(frozen=True)
class Upload:
    """One received file, as `save_attachments` takes it."""

    filename: str
    content_type: str
    size: int
    data: bytes | None
    too_large: bool = False


class Refused(Exception):
    """What the customer is told (status, reason)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


async def _read(request: web.Request) -> tuple[dict[str, str], Upload]:
    """The form's text fields and its file, refusing what is too big or of another type."""
    settings = request.app[SETTINGS].webchat
    fields: dict[str, str] = {}
    upload: Upload | None = None
    if request.content_type != "multipart/form-data":
        raise Refused(400, "send the file as multipart/form-data")
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise Refused(400, "nested multipart is not accepted")
        if part.name == "file" and upload is None:
            data = bytearray()
            while chunk := await part.read_chunk():
                data += chunk
                if len(data) > settings.max_attachment_bytes:
                    raise Refused(413, f"the file is larger than "
                                       f"{_size(settings.max_attachment_bytes)}")
            kind = sniff(bytes(data[:16]))
            if kind is None or kind not in settings.attachment_types:
                raise Refused(415, "only photos (JPEG, PNG, GIF, WebP) and PDF files can be sent")
            name = part.filename or "attachment"
            upload = Upload(name[:200] if storable(name) else "attachment", kind, len(data),
                            bytes(data))
        elif part.name in ("session", "client_id", "text", "customer_id", "customer_hash"):
            value = (await part.read(decode=False))[:_FIELD_BYTES].decode("utf-8", "replace")
            fields[part.name] = value if storable(value) else ""
    if upload is None or not fields.get("session") or not fields.get("client_id"):
        raise Refused(400, "session, client_id and file are required")
    return fields, upload


async def upload(request: web.Request) -> web.Response:
    if not origin_allowed(request):
        raise web.HTTPForbidden(text="origin not allowed")
    try:
        fields, received = await _read(request)
        session = fields["session"]
        resumed = await resumable(request.app, session)
        if resumed is False:
            raise Refused(403, "unknown chat session: reload the page")
        address = resumed.address if isinstance(resumed, Conversation) else address_of(session)
        limits = request.app[LIMITS]
        if not limits.message_allowed(limits.source(request), session):
            raise Refused(429, "too many messages, slow down")
        limits.count(limits.source(request), session)
        verified = fields.get("customer_id")  # the signed customer of the socket, if any
        if verified and identity.refusal(request.app[SETTINGS].webchat.identity_secret,
                                         verified, fields.get("customer_hash", "")):
            verified = None
        inbound = inbound_for(address, fields["client_id"][:64], fields.get("text", "").strip(),
                              verified=verified, attachments=[InboundAttachment(
                                  received.filename, received.content_type, received.size)])
        outcome = await request.app[PIPELINE].handle(inbound)
        await save_attachments(request.app[STORE], outcome.message_id, [received])
    except Refused as refused:
        return with_cors(request, web.json_response({"error": str(refused)},
                                                status=refused.status))
    except StoreError as exc:
        log.error("webchat.upload_unavailable", error=str(exc))
        return with_cors(request, web.json_response({"error": "temporarily unavailable",
                                                 "retry": True}, status=503))
    log.info("webchat.attachment", conversation_id=outcome.conversation_id,
             message_id=outcome.message_id, size=received.size, type=received.content_type)
    return with_cors(request, web.json_response({"message_id": outcome.message_id}))
