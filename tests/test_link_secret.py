"""The installation's signed-link secret can never become empty or known: a first visitor
to an unsubscribe link on a fresh installation used to store "" as the secret of every
signed link (chat continuation, surveys, unsubscribe), which anyone could then forge."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from aiohttp.test_utils import TestClient

from gateway import signed_links
from gateway.keys import STORE
from gateway.models import utcnow
from gateway.outreach.campaigns import PURPOSE


def _forged(key: str, purpose: str, subject: int) -> str:
    stamp = int(utcnow().timestamp()) + 86400
    digest = hmac.new(key.encode(), f"{purpose}:{subject}.{stamp}".encode(),
                      hashlib.sha256).digest()
    return f"{subject}.{stamp}.{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"


async def test_an_unsubscribe_link_on_a_fresh_installation_leaves_no_forgeable_secret(
        client: TestClient) -> None:
    first = await client.get(f"/unsubscribe/{_forged('', PURPOSE, 1)}")
    assert first.status == 404
    again = await client.get(f"/unsubscribe/{_forged('', PURPOSE, 1)}")
    assert again.status == 404, "a link signed with an empty key was accepted"
    kept = await client.app[STORE].link_secret()
    assert len(kept) >= signed_links.MIN_SECRET


def test_signing_or_checking_with_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        signed_links.sign("", PURPOSE, 1, utcnow())
    with pytest.raises(ValueError, match="at least 32"):
        signed_links.verify("short", PURPOSE, _forged("short", PURPOSE, 1))
