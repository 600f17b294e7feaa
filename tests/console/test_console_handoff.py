"""What a hand-off shows the operator: a subject that says what the customer wanted (never a
verification answer nor "that didn't help"), and the answer the bot had given."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import Login

from gateway.config.settings import Settings

DIRECTORY = "number,postal_code\nC-1042,9000\n"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    (tmp_path / "customers.csv").write_text(DIRECTORY, encoding="utf-8")
    return make_settings(customers={"directory": str(tmp_path / "customers.csv")})


async def _say(client: TestClient, headers: dict[str, str], text: str,
               conversation_id: int | None = None) -> dict[str, Any]:
    answer = await client.post("/api/v1/messages", headers=headers, json={
        "customer": {"id": "ann-1", "name": "Ann"}, "text": text,
        "conversation_id": conversation_id, "language": "en"})
    assert answer.status == 201, await answer.text()
    body: dict[str, Any] = await answer.json()
    return body


def _section(html: str, title_id: str) -> str:
    start = html.index(f'id="{title_id}"')
    return html[start:html.index("</section>", start)]


async def test_after_that_did_not_help_the_ticket_shows_the_question_and_the_answer_given(
    client: TestClient, api_headers: dict[str, str], login: Login
) -> None:
    first = await _say(client, api_headers, "How long does delivery take?")
    answer = first["replies"][0]
    assert answer["kind"] == "answer"
    second = await _say(client, api_headers, "that didn't help", first["conversation_id"])
    ticket_id = second["ticket_id"]
    await login()

    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert f"<title>#{ticket_id} How long does delivery take?" in page
    tried = _section(page, "attempts-title")
    assert "answer did not help" in tried and "Decision:</strong> answer given" in tried
    assert f"<code>{answer['article_id']}</code>" in tried
    assert f"{answer['confidence']:.0%}" in tried
    listed = await (await client.get("/console")).text()
    row = listed[listed.index(f'<tr data-ticket-id="{ticket_id}"'):]
    assert "How long does delivery take?" in row[:row.index("</tr>")]


async def test_a_verification_answer_never_becomes_the_subject(
    client: TestClient, api_headers: dict[str, str], login: Login
) -> None:
    asked = await _say(client, api_headers, "Where is my order?")
    conversation = asked["conversation_id"]
    await _say(client, api_headers, "C-9999 9000", conversation)
    given_up = await _say(client, api_headers, "C-1042 9001", conversation)
    assert [r["kind"] for r in given_up["replies"]] == ["handoff"]
    await login()
    listed = await (await client.get("/console")).text()
    assert "C-1042" not in listed and "C-9999" not in listed
    row = listed[listed.index(f'<tr data-ticket-id="{given_up["ticket_id"]}"'):]
    assert re.search(r">Where is my order\?</a>", row[:row.index("</tr>")])
