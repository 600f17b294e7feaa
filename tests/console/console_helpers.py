"""Plain helpers shared by the console tests (fixtures live in conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
AGENT_PASSWORD = "agent-password-1"

Login = Callable[..., Awaitable[str]]
Handoff = Callable[..., Awaitable[dict[str, Any]]]


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)
