"""Signed survey tokens: `<survey id>.<expiry, Unix seconds>.<HMAC-SHA256, base64url>`.

The token is all a customer needs to answer (no login, as the e-mail link must work from
any mail client), so it is signed: a changed survey id or expiry fails the MAC. Single
use is not the token's job but the store's (one conditional UPDATE answers a survey).
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


class SurveyError(GatewayError):
    """A survey answer that cannot be taken; `reason` names the customer's text for it."""

    reason = "csat_invalid"


class SurveyLinkInvalid(SurveyError):
    reason = "csat_invalid"


class SurveyLinkExpired(SurveyError):
    reason = "csat_expired"


class SurveyClosed(SurveyError):
    reason = "csat_used"


def _mac(secret: str, survey_id: int, expires: int) -> str:
    digest = hmac.new(secret.encode(), f"csat:{survey_id}.{expires}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(secret: str, survey_id: int, expires: datetime) -> str:
    stamp = int(expires.timestamp())
    return f"{survey_id}.{stamp}.{_mac(secret, survey_id, stamp)}"


def verify(secret: str, token: str) -> int:
    """The survey id a genuine, unexpired token names; `SurveyLinkInvalid` or
    `SurveyLinkExpired` otherwise (the MAC is checked before the expiry is believed)."""
    match = _SHAPE.match(token)
    if match is None:
        raise SurveyLinkInvalid("not a survey token")
    survey_id, stamp, mac = int(match[1]), int(match[2]), match[3]
    if not hmac.compare_digest(mac, _mac(secret, survey_id, stamp)):
        raise SurveyLinkInvalid("the survey token's signature does not match")
    if stamp <= utcnow().timestamp():
        raise SurveyLinkExpired(f"survey {survey_id}'s link expired")
    return survey_id
