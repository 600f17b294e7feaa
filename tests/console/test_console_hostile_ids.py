"""Numbers beyond what a database id can hold are "not found" or "invalid", never a 500,
on both databases."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import Handoff, Login, csrf_of

from gateway.config.settings import Settings

HUGE = (str(2**63), str(2**64), "9" * 40)


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database={"url": database_url})


async def test_ids_beyond_64_bits(client: TestClient, login: Login, handoff: Handoff) -> None:
    ticket_id = (await handoff())["ticket_id"]
    await login()
    for raw in HUGE:
        for path in (f"/console/tickets/{raw}", f"/console/attachments/{raw}"):
            response = await client.get(path)
            assert response.status == 404, path
        live = await client.get("/console/ws", params={"ticket": raw})
        assert live.status == 400
    page = await client.get(f"/console/tickets/{ticket_id}")
    csrf = csrf_of(await page.text())
    for raw in HUGE:
        merged = await client.post(f"/console/tickets/{ticket_id}/merge",
                                   data={"csrf": csrf, "into": raw})
        assert merged.status == 400, raw
        posted = await client.post(f"/console/tickets/{raw}/merge",
                                   data={"csrf": csrf, "into": str(ticket_id)})
        assert posted.status == 404, raw
    assert (await client.get(f"/console/tickets/{ticket_id}")).status == 200
