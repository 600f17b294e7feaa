"""The reply form with files, read as a stream: `POST /console/tickets/{id}/reply`.

The app reads at most 1 MB of any request body (`client_max_size`), which is what every
other console form needs. A reply with files is `multipart/form-data` and larger, so the
guard leaves that one route's body unread (`deferred`) and this reader checks, in order:
the CSRF token must be the form's first part (nothing else is read before it matches);
then the text fields; then each file, bounded while it is read (per file, all together,
how many), its type told by its first bytes. A file that breaks a rule stops the reply
with a `refusal` saying which file and why, and the text read so far is handed back, so
the page can show the operator their draft again: nothing is sent, nothing is lost
silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web

from gateway.access.auth import csrf_ok
from gateway.config.settings import ConsoleSettings
from gateway.console.attachments import safe_filename
from gateway.console.guard import EXPECTED_CSRF, Refused, expired_form
from gateway.console.i18n import _
from gateway.filetypes import SNIFF_BYTES, size_text, sniff
from gateway.keys import CONNECTORS, SETTINGS, STORE
from gateway.storable import storable

#: The reply's characters (as `routes.MAX_TEXT_CHARS`, which imports this module).
MAX_CHARS = 4000
#: Text fields: the reply (4,000 characters of up to 4 bytes) and small ones.
FIELD_BYTES = 16 * 1024 + 1024
#: Parts besides the files (csrf, seen, text, and a few a browser may add).
OTHER_PARTS = 8
#: After a refusal the rest of the body is read and dropped, so the browser gets the page
#: instead of a reset connection; beyond this much it is not, and the connection closes.
DRAIN_BYTES = 64 * 1024 * 1024
TYPE_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF",
              "image/webp": "WebP", "application/pdf": "PDF"}


@dataclass(frozen=True)
class ReplyFile:
    """One file of the reply, as `add_reply` stores it."""

    filename: str
    content_type: str
    size: int
    data: bytes
    too_large: bool = False


@dataclass
class ReplyForm:
    text: str = ""
    seen: str = ""
    files: list[ReplyFile] = field(default_factory=list)
    #: Why the reply cannot be sent as it is (the page says it above the kept draft).
    refusal: str | None = None
    status: int = 200


class _Stop(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _sends(request: web.Request, channel: str) -> bool:
    return bool(getattr(request.app[CONNECTORS].get(channel), "sends_files", False))


async def sends_files(request: web.Request, conversation_id: int) -> bool:
    """Whether the conversation's channel can carry files to the customer."""
    conversation = await request.app[STORE].get_conversation(conversation_id)
    return conversation is not None and _sends(request, conversation.channel)


async def refusal(request: web.Request, form: ReplyForm, conversation_id: int,
                  max_chars: int) -> tuple[int, str] | None:
    """Why the reply cannot go as it is (status, what to tell), or None."""
    if form.refusal is not None:
        return form.status, form.refusal
    if form.files and not await sends_files(request, conversation_id):
        return 400, _("Files cannot be sent on this channel; send the text alone.")
    if len(form.text.strip()) > max_chars:
        return 400, _("The text is limited to %(num)d characters.") % {"num": max_chars}
    return None


def composer(request: web.Request, channel: str) -> dict[str, object] | None:
    """What the composer's file input says and checks; None: the channel takes no files."""
    if not _sends(request, channel):
        return None
    limits = request.app[SETTINGS].console
    return {"max_bytes": limits.attachment_max_bytes, "max_files": limits.attachment_max_files,
            "total_bytes": limits.attachment_total_bytes, "types": accepted_types(limits),
            "accept": ",".join(limits.attachment_types),
            "max_text": size_text(limits.attachment_max_bytes),
            "total_text": size_text(limits.attachment_total_bytes)}


async def form_of(request: web.Request, max_chars: int = 8000) -> ReplyForm:
    """The reply as streamed multipart (with files), or as the plain form it was before."""
    if EXPECTED_CSRF in request:
        return await read(request, request.app[SETTINGS].console)
    posted = await request.post()
    return ReplyForm(text=str(posted.get("text", ""))[:max_chars],
                     seen=str(posted.get("seen", "")))


def accepted_types(limits: ConsoleSettings) -> str:
    return ", ".join(TYPE_NAMES.get(kind, kind) for kind in limits.attachment_types)


async def read(request: web.Request, limits: ConsoleSettings) -> ReplyForm:
    """The form, or `Refused(403)` when its first part is not the session's CSRF token."""
    reader = await request.multipart()
    first = await reader.next()
    if not isinstance(first, BodyPartReader) or first.name != "csrf":
        raise Refused(403, expired_form())
    token = (await first.read(decode=False))[:200].decode("utf-8", "replace")
    if not csrf_ok(request[EXPECTED_CSRF], token):
        raise Refused(403, expired_form())
    form = ReplyForm()
    total = 0
    try:
        for _index in range(limits.attachment_max_files + OTHER_PARTS):
            part = await reader.next()
            if part is None:
                return form
            if not isinstance(part, BodyPartReader):
                raise _Stop(400, _("Nested multipart is not accepted."))
            if part.name == "files":
                received = await _file(part, limits, total)
                if received is None:
                    continue  # the browser's empty part when no file was chosen
                if len(form.files) >= limits.attachment_max_files:
                    raise _Stop(413, _("At most %(num)s files can be sent with one reply.")
                                % {"num": limits.attachment_max_files})
                total += received.size
                form.files.append(received)
            elif part.name in ("text", "seen"):
                raw = await _field(part)
                value = raw[:FIELD_BYTES].decode("utf-8", "replace")
                setattr(form, part.name, value if storable(value) else "")
                if len(raw) > FIELD_BYTES:  # refused before the rest is read
                    raise _Stop(400, _("The text is limited to %(num)d characters.")
                                % {"num": MAX_CHARS})
            else:
                await part.release()
        raise _Stop(400, _("The form has too many parts."))
    except _Stop as stop:
        form.refusal, form.status, form.files = str(stop), stop.status, []
        await _drain(request)
        return form


async def _field(part: BodyPartReader) -> bytes:
    """A text field, read no further than just past `FIELD_BYTES`."""
    data = bytearray()
    while len(data) <= FIELD_BYTES and (chunk := await part.read_chunk()):
        data += chunk
    return bytes(data)


async def _file(part: BodyPartReader, limits: ConsoleSettings,
                total: int) -> ReplyFile | None:
    name = safe_filename(part.filename or "")
    name = name if storable(name) else "attachment"
    data = bytearray()
    checked = False
    while chunk := await part.read_chunk():
        data += chunk
        if len(data) > limits.attachment_max_bytes:
            raise _Stop(413, _("%(name)s is larger than %(size)s.")
                        % {"name": name, "size": size_text(limits.attachment_max_bytes)})
        if total + len(data) > limits.attachment_total_bytes:
            raise _Stop(413, _("The files together are larger than %(size)s.")
                        % {"size": size_text(limits.attachment_total_bytes)})
        if not checked and len(data) >= SNIFF_BYTES:  # refused before the rest is read
            checked = bool(_check_type(name, bytes(data[:SNIFF_BYTES]), limits))
    if not data:
        if part.filename:
            raise _Stop(400, _("%(name)s is empty.") % {"name": name})
        return None
    kind = _check_type(name, bytes(data[:SNIFF_BYTES]), limits)
    return ReplyFile(name, kind, len(data), bytes(data))


def _check_type(name: str, head: bytes, limits: ConsoleSettings) -> str:
    kind = sniff(head)
    if kind is None or kind not in limits.attachment_types:
        raise _Stop(415, _("%(name)s cannot be sent: only these types can (%(types)s), told "
                           "by the file's content.") % {"name": name,
                                                        "types": accepted_types(limits)})
    return kind


async def _drain(request: web.Request) -> None:
    """Read the rest of a refused body (bounded), so the browser gets the page."""
    left = DRAIN_BYTES
    while left > 0 and (chunk := await request.content.read(64 * 1024)):
        left -= len(chunk)
