"""The frames a chat client may send, validated before anything reads them.

Whatever arrives (binary data, JSON that is not an object, an unknown `type`, a field of
the wrong type, text no database can store, JSON nested too deep to parse) becomes an
error frame for the client; the socket stays open and nothing else happens.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from gateway.channels import ACTIONS
from gateway.ids import MAX_ID
from gateway.storable import check_storable, storable

#: A chat message is a few lines of text.
MAX_TEXT_CHARS = 4000

Text = Annotated[str, AfterValidator(check_storable)]


class _Frame(BaseModel):
    # unknown fields are ignored: an older gateway keeps working with a newer widget
    model_config = ConfigDict(extra="ignore", frozen=True)


class SignedIdentity(_Frame):
    """A logged-in customer as the embedding site vouches for them (identity.py)."""

    id: Text = Field(min_length=1, max_length=100)
    hash: str = Field(pattern=r"^[0-9a-fA-F]{64}$")


class Hello(_Frame):
    type: Literal["hello"]
    #: The session the gateway gave this browser earlier; resumed only if it is known.
    session: Text | None = Field(None, max_length=100)
    #: Replay only messages after this id (a reconnect); 0: the whole conversation.
    after: int = Field(0, ge=0, le=MAX_ID)
    lang: Text = Field("", max_length=35)
    name: Text = Field("", max_length=100)
    identity: SignedIdentity | None = None
    #: A follow-up link's token (follow_up.py): continue that conversation on this device.
    resume: str | None = Field(None, max_length=100)


class ChatMessage(_Frame):
    type: Literal["message"]
    client_id: Text = Field(min_length=1, max_length=64)
    text: Text = Field(max_length=MAX_TEXT_CHARS)
    language: Text | None = Field(None, max_length=35)
    action: Literal[tuple(sorted(ACTIONS))] | None = None  # type: ignore[valid-type]


class Contact(_Frame):
    """The address the customer leaves for replies they may miss, with their consent."""

    type: Literal["contact"]
    email: Text = Field(min_length=3, max_length=254)
    consent: Literal[True]


class Transcript(_Frame):
    """The customer asks for the conversation by e-mail, at the address they left."""

    type: Literal["transcript"]


class Seen(_Frame):
    """The widget showed the customer the conversation up to this message."""

    type: Literal["seen"]
    upto: int = Field(ge=1, le=MAX_ID)


Frame = Hello | ChatMessage | Contact | Seen | Transcript
_KINDS: dict[str, type[Frame]] = {"hello": Hello, "message": ChatMessage, "contact": Contact,
                                  "seen": Seen, "transcript": Transcript}


class FrameError(ValueError):
    """Why a frame was refused, and the client_id it carried (so the widget can match it)."""

    def __init__(self, message: str, client_id: str = "") -> None:
        super().__init__(message)
        self.client_id = client_id


def parse(raw: str) -> Frame:
    """The frame `raw` holds, or `FrameError` saying what is wrong with it."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise FrameError("frames must be JSON objects") from None
    if not isinstance(data, dict):
        raise FrameError("frames must be JSON objects")
    client_id = data.get("client_id")
    client_id = client_id[:64] if isinstance(client_id, str) and storable(client_id) else ""
    kind = data.get("type")
    model = _KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        shown = repr(kind[:20]) if isinstance(kind, str) and storable(kind) else \
            f"of JSON type {type(kind).__name__}"
        raise FrameError(f"unknown frame type {shown}: expected "
                         f"{', '.join(sorted(_KINDS))}", client_id)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "frame"
        raise FrameError(f"{where}: {first['msg']}", client_id) from None


def error(message: str, client_id: str = "", retry: bool = False) -> dict[str, Any]:
    """The error frame sent back; `retry` tells the widget to send its pending messages
    again later (rate limits, outages), not to drop them."""
    frame: dict[str, Any] = {"type": "error", "error": message}
    if client_id:
        frame["client_id"] = client_id
    if retry:
        frame["retry"] = True
    return frame


def busy(client_id: str, retry_after: float) -> dict[str, Any]:
    """The process holds as many messages as it may: the widget keeps this one, shows
    "busy, retrying" and sends it again after `retry_after` seconds (about when there
    is room for it); never a silent wait in a queue. Not counted against the session's
    rate limit: it was not taken."""
    return {**error("busy, retrying shortly", client_id, retry=True), "busy": True,
            "retry_after": round(retry_after, 1)}
