"""Errors raised by the knowledge-base library.

One root, so the gateway can catch everything the library raises on purpose::

    KBError                 any knowledge-base problem
    ├── KBFileError         a file that cannot be read or is not a valid article
    │                       (carries path, line and message; str() is "path:line: message")
    └── AuthoringError      a draft article or an edit that cannot be written (authoring.py)
"""

from __future__ import annotations

from pathlib import Path


class KBError(Exception):
    """Root of every error the knowledge-base library raises on purpose."""


class KBFileError(KBError):
    """A KB file that cannot be loaded, located precisely enough for an admin to fix it."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else str(self.path)
        return f"{where}: {self.message}"


class AuthoringError(KBError):
    """A draft article or an added example that cannot be written; the message says why."""
