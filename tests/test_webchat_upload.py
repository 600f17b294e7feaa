"""`POST /chat/upload` over HTTP: only a session the gateway issued, from an accepted origin,
may post a file, and a resent upload is stored once."""

from __future__ import annotations

import base64

import aiohttp
from aiohttp.test_utils import TestClient

from gateway.keys import STORE
from gateway.store.attachments import attachments_of

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGA"
                       "hKmMIQAAAABJRU5ErkJggg==")


def _form(session: str, client_id: str = "c-1") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("session", session)
    form.add_field("client_id", client_id)
    form.add_field("file", PNG, filename="damage.png", content_type="image/png")
    return form


async def _session(client: TestClient) -> str:
    ws = await client.ws_connect("/chat/ws")
    await ws.send_json({"type": "hello", "session": None, "after": 0})
    welcome = await ws.receive_json()
    await ws.close()
    return str(welcome["session"])


async def test_only_an_issued_session_from_an_accepted_origin_may_upload(
        client: TestClient) -> None:
    refused = await client.post("/chat/upload", data=_form("a-session-nobody-issued"))
    assert refused.status == 403 and "unknown chat session" in (await refused.json())["error"]
    session = await _session(client)
    foreign = await client.post("/chat/upload", data=_form(session),
                                headers={"Origin": "https://evil.example"})
    assert foreign.status == 403
    empty = aiohttp.FormData()
    empty.add_field("session", session)
    missing = await client.post("/chat/upload", data=empty)
    assert missing.status == 400


async def test_a_resent_upload_is_stored_once(client: TestClient) -> None:
    session = await _session(client)
    first = await client.post("/chat/upload", data=_form(session))
    again = await client.post("/chat/upload", data=_form(session))
    assert first.status == again.status == 200, await first.text()
    message_id = (await first.json())["message_id"]
    assert (await again.json())["message_id"] == message_id
    files = await attachments_of(client.app[STORE], [message_id])
    assert [(f.filename, f.content_type, f.size) for f in files[message_id]] == \
        [("damage.png", "image/png", len(PNG))]
