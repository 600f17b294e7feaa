"""The company's customer directory: who a customer number belongs to, for verification.

Before the bot reveals anything account-specific (an article with
`requires_verification: true`), the customer proves who they are with their customer
number and postal code, as a helpdesk operator would ask on the phone. The directory is a
CSV export of the company's customer file (`[customers] directory`), columns `number`,
`postal_code` (other columns are ignored); it is read again when the file
changes, so a nightly export takes effect without a restart. A broken file keeps the last
good one and says why in the log.
"""

from __future__ import annotations

import csv
import hmac
import re
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

#: "C-1042 9000", "c1042, 9000", "customer number 1042 postal code 9000": the number is the
#: first token with a digit, the postal code the next one of 4 or 5 digits (BE, NL, DE, FR).
_TOKENS = re.compile(r"[A-Za-z]*[-/]?\d[\w-]*")
_POSTAL = re.compile(r"\d{4,5}")


@dataclass(frozen=True)
class DirectoryEntry:
    number: str
    postal_code: str


def normalise_number(number: str) -> str:
    """Customers type "c-1042", "C1042" or "C 1042" for C-1042."""
    return re.sub(r"[\s\-/.]", "", number).upper()


def _postal(code: str) -> str:
    return re.sub(r"\s", "", code).upper()


def credentials(text: str) -> tuple[str, str] | None:
    """(customer number, postal code) typed in a message, or None if it holds no attempt."""
    tokens = _TOKENS.findall(text)
    postal = next((t for t in tokens[1:] if _POSTAL.fullmatch(t)), None)
    return (tokens[0], postal) if postal else None


class Directory:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, DirectoryEntry] = {}
        self._stamp: float | None = None

    def _current(self) -> dict[str, DirectoryEntry]:
        try:
            stamp = self.path.stat().st_mtime
        except OSError as exc:
            log.error("directory.unreadable", path=str(self.path), error=str(exc))
            return self._entries
        if stamp != self._stamp:
            try:
                self._entries = read_directory(self.path)
                log.info("directory.loaded", path=str(self.path), customers=len(self._entries))
            except (OSError, ValueError) as exc:
                log.error("directory.invalid", path=str(self.path), error=str(exc))
            self._stamp = stamp
        return self._entries

    def verify(self, number: str, postal_code: str) -> DirectoryEntry | None:
        """The entry when number and postal code belong together, else None (whether the
        number exists is not told apart: that would help someone guessing)."""
        entry = self._current().get(normalise_number(number))
        expected = entry.postal_code if entry else "\0"
        matches = hmac.compare_digest(_postal(postal_code).encode(), expected.encode())
        return entry if entry is not None and matches else None


def read_directory(path: Path) -> dict[str, DirectoryEntry]:
    """Entries by normalised number; ValueError says what is wrong with the file."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        try:
            missing = {"number", "postal_code"} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{path}: missing column(s): {', '.join(sorted(missing))}")
            entries = {}
            for row in reader:
                number, postal = (row.get("number") or "").strip(), row.get("postal_code") or ""
                if not number or not postal.strip():
                    raise ValueError(f"{path}, line {reader.line_num}: number and postal_code"
                                     " are required")
                entries[normalise_number(number)] = DirectoryEntry(number, _postal(postal))
        except csv.Error as exc:
            raise ValueError(f"{path}, line {reader.line_num}: not valid CSV: {exc}") from None
    return entries
