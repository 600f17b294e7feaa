"""Files attached to messages: the customers' (stored with the message, read by the console)
and the operators' (stored with their reply by `add_reply`, sent by the channels).

An attachment within the channel's size limit is kept with its bytes; a larger one keeps
only its name, type and size with `too_large` set (the mail is still taken in and the
operator is told). Portable SQL with `?` placeholders: bytes go in as they are on both
aiosqlite (BLOB) and asyncpg (BYTEA).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.models import utcnow
from gateway.store import Store, codec
from gateway.store.attachment_rows import AttachmentLike, insert_attachments

#: The columns a listing reads (never the bytes).
_META = "id, message_id, filename, content_type, size, too_large, created_at"


@dataclass(frozen=True)
class AttachmentMeta:
    id: int
    message_id: int
    filename: str
    content_type: str
    size: int
    too_large: bool


@dataclass(frozen=True)
class StoredAttachment:
    meta: AttachmentMeta
    #: None when the file was too large to keep.
    data: bytes | None


def _meta(row: dict[str, Any]) -> AttachmentMeta:
    return AttachmentMeta(
        id=int(row["id"]), message_id=int(row["message_id"]),
        filename=row["filename"] or "", content_type=row["content_type"] or "",
        size=int(row["size"] or 0), too_large=bool(row["too_large"]),
    )


async def save_attachments(store: Store, message_id: int,
                           attachments: Sequence[AttachmentLike]) -> int:
    """Store a message's attachments once; return how many rows were written now.

    All or nothing, in one transaction, and only if the message has none yet: a mail taken
    in again after a crash between the pipeline's commit and this call gets its files then,
    and a second run never doubles them (the message row is locked on PostgreSQL, SQLite's
    write transaction is exclusive).
    """
    if not attachments:
        return 0
    now = codec.ts(utcnow())
    async with store.db.transaction() as tx:
        lock = " FOR UPDATE" if store.db.dialect == "postgresql" else ""
        await tx.fetchone(f"SELECT id FROM messages WHERE id = ?{lock}", message_id)
        if await tx.fetchone("SELECT id FROM attachments WHERE message_id = ? LIMIT 1",
                             message_id):
            return 0
        await insert_attachments(tx, message_id, attachments, now)
    return len(attachments)


async def attachment(store: Store, attachment_id: int) -> StoredAttachment | None:
    """One attachment with its bytes, or None when there is no such row."""
    row = await store.db.fetchone(f"SELECT {_META}, data FROM attachments WHERE id = ?",
                                  attachment_id)
    if row is None:
        return None
    data = row["data"]
    return StoredAttachment(_meta(row), bytes(data) if data is not None else None)


async def attachments_of(store: Store,
                         message_ids: Collection[int]) -> dict[int, list[AttachmentMeta]]:
    """The attachments (without bytes) of these messages, in the order they came."""
    ids = sorted(set(message_ids))
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = await store.db.fetchall(
        f"SELECT {_META} FROM attachments WHERE message_id IN ({marks}) ORDER BY id", *ids)
    found: dict[int, list[AttachmentMeta]] = {}
    for row in rows:
        meta = _meta(row)
        found.setdefault(meta.message_id, []).append(meta)
    return found
