"""Ticket tags: short labels operators put on tickets to find them again (`?tag=refund`).

A tag is lower case, 1-32 letters, digits, `-` or `_`, so it reads the same in a URL, a
filter and a report; what an operator types is folded to that or refused.
"""

from __future__ import annotations

import re

#: The most tags one ticket carries.
MAX_TAGS = 20
_TAG = re.compile(r"^[\w-]{1,32}$")


def normalise(raw: str) -> str | None:
    """`raw` as a tag (" Refund " → "refund"), or None when it cannot be one."""
    tag = raw.strip().lstrip("#").casefold().replace(" ", "-")
    return tag if _TAG.match(tag) else None


def parse(raw: str) -> tuple[list[str], list[str]]:
    """Tags typed in one field, separated by commas or spaces: the valid ones (each once,
    in order) and those refused."""
    valid: list[str] = []
    refused = []
    for word in re.split(r"[,\s]+", raw):
        if not word:
            continue
        tag = normalise(word)
        if tag is None:
            refused.append(word)
        elif tag not in valid:
            valid.append(tag)
    return valid, refused
