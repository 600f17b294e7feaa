"""The e-mail quarantine page: admins see why a mail was not taken in, download it,
delete it; reprocessing needs the e-mail channel (tests/email_live covers it with one)."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Login

from connectors.email.state import QUARANTINE_INDEX, QUARANTINE_RAW
from gateway.keys import STORE
from gateway.models import Operator

RAW = b"From: broken(<x@y.be>\r\nSubject: =?utf-8?q?oops\r\n\r\n<script>alert(1)</script>\r\n"


async def _seed(client: TestClient) -> None:
    store = client.app[STORE]
    index = []
    for uid, raw in ((7, RAW), (8, b"From: other@z.be\r\n\r\nhello")):
        entry_id = f"INBOX/1/{uid}"
        await store.set_state(QUARANTINE_RAW + entry_id, {"raw": base64.b64encode(raw).decode()})
        index.append({"id": entry_id, "error": f"no usable From address ({uid})",
                      "size": len(raw), "at": "2026-11-29T10:00:00+00:00", "mailbox": "INBOX",
                      "uidvalidity": 1, "uid": uid})
    await store.set_state(QUARANTINE_INDEX, index)


async def test_admins_see_download_and_delete_quarantined_mail(
        client: TestClient, login: Login) -> None:
    await _seed(client)
    csrf = await login()
    admin = await (await client.get("/console/admin")).text()
    assert '<a href="/console/admin/quarantine">2 mails could not be taken in</a>' in admin
    page = await (await client.get("/console/admin/quarantine")).text()
    assert 'data-quarantine="INBOX/1/7"' in page
    assert "no usable From address (7)" in page
    assert "needs the e-mail channel, which is off" in page

    raw = await client.get("/console/admin/quarantine/raw", params={"id": "INBOX/1/7"})
    assert raw.status == 200 and await raw.read() == RAW  # the bytes as received
    assert raw.headers["Content-Type"] == "message/rfc822"
    assert raw.headers["Content-Disposition"] == \
        'attachment; filename="quarantine-INBOX-1-7.eml"'

    refused = await client.post("/console/admin/quarantine/reprocess",
                                data={"csrf": csrf, "id": "INBOX/1/7"})
    assert refused.status == 409 and "E-mail is not configured" in await refused.text()

    deleted = await client.post("/console/admin/quarantine/delete",
                                data={"csrf": csrf, "id": "INBOX/1/7"})
    assert deleted.url.path == "/console/admin/quarantine"
    html = await deleted.text()
    assert "The mail was deleted." in html and 'data-quarantine="INBOX/1/7"' not in html
    store = client.app[STORE]
    assert [e["id"] for e in await store.get_state(QUARANTINE_INDEX)] == ["INBOX/1/8"]
    assert await store.get_state(QUARANTINE_RAW + "INBOX/1/7") is None
    gone = await client.get("/console/admin/quarantine/raw", params={"id": "INBOX/1/7"})
    assert gone.status == 404


async def test_quarantine_is_for_admins_only(
        client: TestClient, login: Login,
        make_operator: Callable[..., Awaitable[Operator]]) -> None:
    await _seed(client)
    await make_operator("sue", role="supervisor")
    csrf = await login("sue", AGENT_PASSWORD)
    assert (await client.get("/console/admin/quarantine")).status == 403
    raw = await client.get("/console/admin/quarantine/raw", params={"id": "INBOX/1/7"})
    assert raw.status == 403 and RAW not in await raw.read()
    for action in ("delete", "reprocess"):
        answer = await client.post(f"/console/admin/quarantine/{action}",
                                   data={"csrf": csrf, "id": "INBOX/1/7"})
        assert answer.status == 403, action
    assert len(await client.app[STORE].get_state(QUARANTINE_INDEX)) == 2
