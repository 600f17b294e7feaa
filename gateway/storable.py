"""Text both databases can store: no NUL character (PostgreSQL refuses it in TEXT) and no
lone surrogate (not encodable as UTF-8, so neither SQLite nor PostgreSQL takes it).

JSON lets a client send both (`\\u0000`, `\\ud800`); they are refused where text enters,
with a 400 or an error frame, instead of failing deep in a driver.
"""

from __future__ import annotations


def storable(text: str) -> bool:
    """True when `text` can be stored as it is."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_storable(text: str) -> str:
    """A pydantic `AfterValidator`: the text, or ValueError naming the problem."""
    if not storable(text):
        raise ValueError("contains a NUL character or an unpaired surrogate")
    return text
