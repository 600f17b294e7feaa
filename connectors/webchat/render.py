"""Stored messages as the widget shows them: the `message` frames of the protocol."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.webchat import files as chat_files
from gateway.markdown import to_safe_html
from gateway.models import Message
from gateway.store.attachments import AttachmentMeta
from gateway.store.codec import parse_ts


def frame_of(message: Message, files: Sequence[AttachmentMeta] = ()) -> dict[str, Any]:
    """A stored message as the widget shows it (replayed history). A customer's own message
    carries the client_id it was sent with, so the widget matches it to a bubble still
    waiting for its ack (lost in a drop, or kept across a reload) instead of showing it twice,
    and the names of the files it carried."""
    shown = frame(message.id, message.author, message.kind or "", message.text, message.meta,
                  message.created_at.isoformat())
    if message.author == "customer" and message.channel_message_id:
        shown["client_id"] = message.channel_message_id.partition(":")[2]
    if files:
        shown["attachments"] = [{"name": f.filename, "size": f.size} for f in files]
    return shown


def frame(message_id: int, author: str, kind: str, text: str, meta: dict[str, Any],
          created_at: str | None = None) -> dict[str, Any]:
    """A message frame from its parts (a pushed reply: the outbox's copy of them)."""
    frame: dict[str, Any] = {"type": "message", "id": message_id, "author": author,
                             "kind": kind, "text": text, "created_at": created_at}
    if author != "customer":
        frame["html"] = to_safe_html(text)
    if author == "operator":
        frame.update(operator=meta.get("operator", ""), **chat_files.listed(meta))
    titles = meta.get("titles")
    if kind == "clarify" and titles:
        frame["choices"] = [*titles, meta.get("none_label", "")]
    if kind == "slot" and meta.get("choices"):  # a KB action's shops, free slots, ...
        frame["choices"] = [str(choice) for choice in meta["choices"]]
    if kind == "answer":
        frame["feedback"] = True
    form = meta.get("survey")
    if kind == "survey" and isinstance(form, dict):  # the widget shows 1-5 buttons
        frame["survey"] = {k: form.get(k) for k in ("token", "scale", "low", "high", "comment",
                                                    "send", "thanks", "used")}
    return frame


def iso(stored: object) -> str | None:
    """When a pushed reply was written (the outbox's copy of the store's timestamp), in the
    form replayed history uses; None for an entry queued before the payload carried it."""
    return parse_ts(stored).isoformat() if isinstance(stored, str) else None
