"""Signed links for people without a login: `<id>.<expiry, Unix seconds>.<HMAC-SHA256>`.

A link mailed to a customer (continue a chat on another device, answer a survey) is all
they need, so it is signed: a changed id, expiry or purpose fails the MAC, and the MAC is
checked before the expiry is believed. `purpose` separates the kinds of link, so one kind
can never be replayed as another. Whether a link may be used again is not the token's
business but its owner's (e.g. a conditional UPDATE for a single-use survey).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime

from gateway.errors import GatewayError
from gateway.models import utcnow

_SHAPE = re.compile(r"^([1-9][0-9]{0,17})\.([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{43})$")
#: The store key of the installation's link secret, drawn once and shared by every replica.
SECRET_KEY = "links:secret"


class LinkInvalid(GatewayError):
    """Not a link this gateway signed for that purpose."""


class LinkExpired(LinkInvalid):
    """A genuine link whose time is over."""


#: Shorter secrets are refused outright: a link signed with an empty or guessable key
#: would let anyone forge a chat continuation or a survey answer.
MIN_SECRET = 32


def _mac(secret: str, purpose: str, subject: int, expires: int) -> str:
    if len(secret) < MIN_SECRET:
        raise ValueError("a signed-link secret needs at least 32 characters")
    digest = hmac.new(secret.encode(), f"{purpose}:{subject}.{expires}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(secret: str, purpose: str, subject: int, expires: datetime) -> str:
    stamp = int(expires.timestamp())
    return f"{subject}.{stamp}.{_mac(secret, purpose, subject, stamp)}"


def verify(secret: str, purpose: str, token: str) -> int:
    """The id a genuine, unexpired token of `purpose` names; `LinkInvalid` or
    `LinkExpired` otherwise."""
    match = _SHAPE.match(token)
    if match is None:
        raise LinkInvalid("not a link token")
    subject, stamp, mac = int(match[1]), int(match[2]), match[3]
    if not hmac.compare_digest(mac, _mac(secret, purpose, subject, stamp)):
        raise LinkInvalid("the link's signature does not match")
    if stamp <= utcnow().timestamp():
        raise LinkExpired("the link expired")
    return subject
