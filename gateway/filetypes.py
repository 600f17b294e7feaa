"""What a file is, told by its first bytes: the sender's name and the browser's claim are
never trusted. Shared by the customers' uploads (web chat) and the operators' replies."""

from __future__ import annotations

#: First bytes of the accepted types (JPEG, PNG, GIF, PDF; WebP is RIFF....WEBP).
_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"),
          (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"), (b"%PDF-", "application/pdf"))
#: How many first bytes `sniff` needs.
SNIFF_BYTES = 16


def sniff(data: bytes) -> str | None:
    """The type the content is, whatever its name or the browser says; None: none we take."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


def size_text(limit: int) -> str:
    """A byte limit for people: "10 MB", "512 KB"."""
    return f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit // 1024} KB"
