"""The one password policy for operators, wherever a password is set: the bootstrap admin
of the configuration, `helpdesk-gateway create-operator` and `set-password`, the admin form.

Length is what resists guessing; the list of the 10,000 most common passwords (from
zxcvbn, see data/NOTICE) refuses the long ones every attacker tries first.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

MIN_LENGTH = 12


@cache
def _common() -> frozenset[str]:
    text = resources.files("gateway").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def problem(password: str, username: str = "") -> str | None:
    """Why `password` is refused, in a sentence for the person choosing it; None if it is fine."""
    if not password.strip():
        return f"The password is empty: choose one of at least {MIN_LENGTH} characters."
    if len(password) < MIN_LENGTH:
        return f"The password needs at least {MIN_LENGTH} characters."
    if password.strip().lower() in _common():
        return "This password is among the most common ones: choose another."
    if username and password.strip().lower() == username.strip().lower():
        return "The password must not be the username."
    return None
