"""Survey tokens: signed links (gateway/signed_links.py) of purpose `csat`, and the errors a
customer is told about, each naming its text (`reason`).

The token is all a customer needs to answer (no login, as the e-mail link must work from
any mail client). Single use is not the token's job but the store's (one conditional
UPDATE answers a survey).
"""

from __future__ import annotations

from datetime import datetime

from gateway import signed_links
from gateway.errors import GatewayError

PURPOSE = "csat"


class SurveyError(GatewayError):
    """A survey answer that cannot be taken; `reason` names the customer's text for it."""

    reason = "csat_invalid"


class SurveyLinkInvalid(SurveyError):
    reason = "csat_invalid"


class SurveyLinkExpired(SurveyError):
    reason = "csat_expired"


class SurveyClosed(SurveyError):
    reason = "csat_used"


def sign(secret: str, survey_id: int, expires: datetime) -> str:
    return signed_links.sign(secret, PURPOSE, survey_id, expires)


def verify(secret: str, token: str) -> int:
    """The survey id a genuine, unexpired token names; `SurveyLinkInvalid` or
    `SurveyLinkExpired` otherwise (the MAC is checked before the expiry is believed)."""
    try:
        return signed_links.verify(secret, PURPOSE, token)
    except signed_links.LinkExpired as exc:
        raise SurveyLinkExpired(f"the survey link expired: {exc}") from None
    except signed_links.LinkInvalid as exc:
        raise SurveyLinkInvalid(f"not a survey token: {exc}") from None
