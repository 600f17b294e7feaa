"""A customer's access and erasure requests, through `helpdesk-gateway customer`, against
the running gateway's database: every place their data lives is covered, nobody else's is
touched, and the tickets keep their shape for the statistics and the audit trail."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from console_helpers import Login

from connectors.email.state import QUARANTINE_INDEX, QUARANTINE_RAW, SUPPRESSED
from gateway.keys import SETTINGS, STORE
from gateway.store.attachments import attachments_of, save_attachments

ANN = {"id": "c1", "name": "Ann Peeters", "email": "Ann.Peeters@example.be"}
BOB = {"id": "c2", "name": "Bob Maes", "email": "bob@example.be"}


@dataclass(frozen=True)
class File:
    filename: str
    content_type: str
    size: int
    data: bytes | None
    too_large: bool = False


async def _cli(client: TestClient, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    config = tmp_path / "cli.toml"
    config.write_text(f'[database]\nurl = "{client.app[SETTINGS].database_url}"\n',
                      encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "customer", *args, "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _write(client: TestClient, headers: dict[str, str], customer: dict[str, str],
                 text: str) -> dict[str, Any]:
    answer = await client.post("/api/v1/messages", headers=headers,
                               json={"customer": customer, "text": text})
    assert answer.status == 201, await answer.text()
    body: dict[str, Any] = await answer.json()
    conversation = await client.app[STORE].get_conversation(body["conversation_id"])
    assert conversation is not None
    return {**body, "customer_id": conversation.customer_id}


async def _quarantine(client: TestClient, entry_id: str, raw: bytes) -> None:
    store = client.app[STORE]
    index = await store.get_state(QUARANTINE_INDEX) or []
    await store.set_state(QUARANTINE_RAW + entry_id, {"raw": base64.b64encode(raw).decode()})
    await store.set_state(QUARANTINE_INDEX, [*index, {"id": entry_id, "error": "bad mime"}])


async def test_export_then_erase_a_customer_everywhere(
    client: TestClient, api_headers: dict[str, str], login: Login, tmp_path: Path
) -> None:
    store = client.app[STORE]
    first = await _write(client, api_headers, ANN,
                         "I am Ann Peeters and I want to talk to a human about my invoice")
    ticket_id = first["ticket_id"]
    bob = await _write(client, api_headers, BOB, "I want to talk to a human please")
    csrf = await login()
    for action, text in (("note", "Ann Peeters called back from +32 470 12 34 56"),
                         ("reply", "Hello Ann, I am looking into your invoice.")):
        done = await client.post(f"/console/tickets/{ticket_id}/{action}",
                                 data={"csrf": csrf, "text": text})
        assert done.status == 200, action
    ann_message = (await store.messages(first["conversation_id"]))[0]
    await save_attachments(store, ann_message.id, [File("invoice.pdf", "application/pdf", 4,
                                                        b"%PDF")])
    await store.set_state(SUPPRESSED + "ann.peeters@example.be", {"status": "5.1.1"})
    await _quarantine(client, "INBOX/1/7", b"From: Ann Peeters <ann.peeters@EXAMPLE.be>\r\n"
                                           b"Subject: broken\r\n\r\nmy IBAN is ...")
    await _quarantine(client, "INBOX/1/8", b"From: someone@else.be\r\n\r\nhello")

    # access request: everything, in one JSON document; the console shows who to ask for
    number = f'<dd data-customer-number>{first["customer_id"]}</dd>'
    assert number in await (await client.get(f"/console/tickets/{ticket_id}")).text()
    exported = tmp_path / "ann.json"
    code, _, err = await _cli(client, tmp_path, "export", "ann.peeters@example.be",
                              "--output", str(exported))
    assert code == 0, err
    data = json.loads(exported.read_text(encoding="utf-8"))
    assert data["customer"]["name"] == "Ann Peeters"
    assert {(i["channel"], i["address"]) for i in data["identities"]} == {("api", "test:c1")}
    texts = [m["text"] for c in data["conversations"] for m in c["messages"]]
    assert texts[0].startswith("I am Ann Peeters")
    assert "Hello Ann, I am looking into your invoice." in texts
    files = [a for c in data["conversations"] for m in c["messages"] for a in m["attachments"]]
    assert [(f["filename"], base64.b64decode(f["data_base64"])) for f in files] == [
        ("invoice.pdf", b"%PDF")]
    history = [e["data"].get("text") for e in data["tickets"][0]["history"]]
    assert "Ann Peeters called back from +32 470 12 34 56" in history
    assert data["email"]["suppressed"] == {"ann.peeters@example.be": {"status": "5.1.1"}}
    assert [q["id"] for q in data["email"]["quarantined"]] == ["INBOX/1/7"]
    assert "Bob" not in exported.read_text(encoding="utf-8")

    # erasure needs an explicit confirmation
    code, _, err = await _cli(client, tmp_path, "erase", str(first["customer_id"]))
    assert code == 1 and f"customer {first['customer_id']} found" in err
    assert "run again with --yes" in err
    unchanged = await store.get_customer(first["customer_id"])
    assert unchanged is not None and unchanged.name == "Ann Peeters"
    code, out, err = await _cli(client, tmp_path, "erase", "api:test:c1", "--yes",
                                "--actor", "dpo")
    assert code == 0, err
    counts = json.loads(out)
    assert (counts["attachments"], counts["tickets"], counts["tickets_closed"],
            counts["identities"]) == (1, 1, 1, 1)

    customer = await store.get_customer(first["customer_id"])
    assert customer is not None and customer.name == "[erased]" and customer.email is None
    assert {m.text for m in await store.messages(first["conversation_id"])} == {"[erased]"}
    assert await attachments_of(store, [ann_message.id]) == {}
    assert await store.get_state(SUPPRESSED + "ann.peeters@example.be") is None
    assert [e["id"] for e in await store.get_state(QUARANTINE_INDEX)] == ["INBOX/1/8"]
    assert await store.get_state(QUARANTINE_RAW + "INBOX/1/7") is None

    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    for gone in ("Ann Peeters", "Ann.Peeters@example.be", "+32 470", "invoice.pdf"):
        assert gone not in page, gone
    ticket = await store.get_ticket(int(ticket_id))
    assert ticket is not None and ticket.subject == "[erased]" and ticket.status == "closed"
    events = await store.events(ticket_id=int(ticket_id))
    assert [e.type for e in events][:1] == ["ticket.created"]  # the audit trail's shape stays
    assert all(e.data == {} for e in events[:-1])
    assert (events[-1].type, events[-1].actor, events[-1].data) == (
        "ticket.closed", "cli:dpo", {"outcome": "customer data erased"})

    # Bob is untouched; Ann writing again is a new customer, not the erased record
    bob_messages = await store.messages(bob["conversation_id"])
    assert bob_messages[0].text == "I want to talk to a human please"
    again = await _write(client, api_headers, ANN, "hello again")
    assert again["customer_id"] != first["customer_id"]

    code, _, err = await _cli(client, tmp_path, "export", "nobody@example.be")
    assert code == 1 and "no customer matches 'nobody@example.be'" in err
