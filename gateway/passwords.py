"""The one password policy for operators, wherever a password is set: the bootstrap admin
of the configuration, `helpdesk-gateway create-operator` and `set-password`, the admin form.

Length is what resists guessing; the list of the 10,000 most common passwords (from
zxcvbn, see data/NOTICE) refuses the long ones every attacker tries first.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from gateway.catalogue import N_

MIN_LENGTH = 12


@cache
def _common() -> frozenset[str]:
    text = resources.files("gateway").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def rule(password: str, username: str = "") -> str | None:
    """The rule `password` breaks, as an English msgid of the console's catalogue (its
    `%(num)d` is `MIN_LENGTH`: `explain`); None if it is fine."""
    if not password.strip():
        return N_("The password is empty: choose one of at least %(num)d characters.")
    if len(password) < MIN_LENGTH:
        return N_("The password needs at least %(num)d characters.")
    if password.strip().lower() in _common():
        return N_("This password is among the most common ones: choose another.")
    if username and password.strip().lower() == username.strip().lower():
        return N_("The password must not be the username.")
    return None


def explain(broken: str) -> str:
    """A rule of `rule` (translated or not) as the sentence shown."""
    return broken % {"num": MIN_LENGTH}


def problem(password: str, username: str = "") -> str | None:
    """Why `password` is refused, in an English sentence for the person choosing it (the
    CLI, the configuration); None if it is fine. The console says `rule` in its language."""
    broken = rule(password, username)
    return explain(broken) if broken else None
