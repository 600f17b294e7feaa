"""Writing attachment rows inside a caller's transaction: the customers' files saved with
their message (`attachments.save_attachments`) and the operators' files stored with their
reply (`add_reply`), so the outbox never sends a reply whose files are not there yet."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from gateway.store.db import Connection


class AttachmentLike(Protocol):
    """What a channel or the console hands over (e.g. `connectors.email.parse.Attachment`)."""

    @property
    def filename(self) -> str: ...

    @property
    def content_type(self) -> str: ...

    @property
    def size(self) -> int: ...

    @property
    def data(self) -> bytes | None: ...

    @property
    def too_large(self) -> bool: ...


async def insert_attachments(tx: Connection, message_id: int,
                             items: Sequence[AttachmentLike], now: str) -> list[dict[str, Any]]:
    """Insert the rows; return what a reply's payload says of each (id, name, type, size)."""
    written = []
    for item in items:
        data = None if item.too_large else item.data
        row = await tx.fetchone(
            "INSERT INTO attachments (message_id, filename, content_type, size, too_large,"
            " data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            message_id, item.filename, item.content_type, item.size,
            1 if item.too_large else 0, bytes(data) if data is not None else None, now,
        )
        assert row is not None
        written.append({"id": int(row["id"]), "name": item.filename,
                        "type": item.content_type, "size": item.size})
    return written
