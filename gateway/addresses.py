"""E-mail address syntax, for addresses clients send us (the API's `customer.email`).

A pragmatic RFC 5321/6531 check: a dot-atom local part (ASCII `atext` or any non-ASCII
character) and a domain of at least two labels. Quoted local parts and address literals
are refused: nobody gives those as a contact address, and they are how injection looks.
"""

from __future__ import annotations

import re

_WIDE = r"\u0080-\U0010ffff"
_ATEXT = rf"[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~\-{_WIDE}]"
_END = rf"(?:[^\W_]|[{_WIDE}])"  # a label starts and ends with a letter or digit
_LABEL = rf"{_END}(?:[\w\-{_WIDE}]{{0,61}}{_END})?"
_ADDRESS = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*@{_LABEL}(?:\.{_LABEL})+")


def valid_address(text: str) -> bool:
    """True for a syntactically valid address of at most 254 characters (RFC 5321)."""
    return len(text) <= 254 and len(text.split("@", 1)[0]) <= 64 \
        and _ADDRESS.fullmatch(text) is not None


#: Local parts of mailboxes that machines send from and nobody reads (RFC 2142 roles that
#: are not people, and the usual no-reply names).
_MACHINE = re.compile(r"^(?:no-?reply|do-?not-?reply|noreply[-+.].*|mailer-daemon|postmaster"
                      r"|bounces?|notifications?|auto-?reply|daemon)(?:[+.].*)?$", re.IGNORECASE)


def is_machine_address(address: str) -> bool:
    """True for an address a machine sends from (noreply@, mailer-daemon@...): nobody
    would answer a survey sent there."""
    return _MACHINE.match(address.split("@", 1)[0]) is not None
