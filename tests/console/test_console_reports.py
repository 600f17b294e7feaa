"""Contact records as CSV: what supervisors hand to whoever follows quality and workload."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Login

from gateway.models import Operator, utcnow

Handoff = Callable[..., Awaitable[dict[str, Any]]]


async def test_closed_tickets_export_as_contact_records(
        client: TestClient, login: Login, handoff: Handoff,
        make_operator: Callable[..., Awaitable[Operator]]) -> None:
    sneaky = await handoff('=HYPERLINK("http://evil.example","I want to talk to a human")')
    still_open = await handoff("I want to talk to a human about my bill", customer_id="c2")
    csrf = await login()
    ticket = sneaky["ticket_id"]
    for action, data in (("take", {}), ("reply", {"text": "Hello, I can help."}),
                         ("close", {"outcome": "answered", "summary": "Explained, ok"})):
        done = await client.post(f"/console/tickets/{ticket}/{action}",
                                 data={"csrf": csrf, **data})
        assert done.status == 200, action
    page = await (await client.get("/console/reports")).text()
    assert '<label for="report-from">' in page and 'href="/console/reports"' in page

    today = utcnow().date().isoformat()
    answer = await client.get("/console/reports/contacts.csv", params={"from": today,
                                                                       "to": today})
    assert answer.status == 200 and answer.content_type == "text/csv"
    assert answer.headers["Content-Disposition"] == \
        f'attachment; filename="contacts-{today}-{today}.csv"'
    rows = list(csv.DictReader(io.StringIO((await answer.read()).decode("utf-8-sig"))))
    assert [int(r["ticket"]) for r in rows] == [ticket]  # the open one is no contact yet
    (row,) = rows
    assert (row["outcome"], row["summary"], row["closed_by"], row["queue"], row["channel"]) \
        == ("answered", "Explained, ok", "admin", "general", "api")
    assert row["subject"].startswith("'=HYPERLINK(")  # text in a spreadsheet, not a formula
    assert row["first_reply_at"] and row["sla_breaches"] == "0"
    assert still_open["ticket_id"] != ticket

    earlier = await client.get("/console/reports/contacts.csv",
                               params={"from": "2026-01-01", "to": "2026-01-31"})
    assert len(list(csv.reader(io.StringIO((await earlier.read()).decode("utf-8-sig"))))) == 1
    for params, says in (({"from": "yesterday"}, "YYYY-MM-DD"),
                         ({"from": "2026-02-01", "to": "2026-01-01"}, "ends before"),
                         ({"from": "2024-01-01", "to": "2026-01-01"}, "at most 366 days")):
        refused = await client.get("/console/reports/contacts.csv", params=params)
        assert refused.status == 400 and says in await refused.text(), params

    await make_operator("gina")
    await login("gina", AGENT_PASSWORD)
    assert 'href="/console/reports"' not in await (await client.get("/console")).text()
    for path in ("/console/reports", "/console/reports/contacts.csv"):
        denied = await client.get(path)
        assert denied.status == 403 and "Explained" not in await denied.text(), path
