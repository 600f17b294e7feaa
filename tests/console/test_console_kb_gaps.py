"""The knowledge-base gap report over HTTP, from conversations on the API channel: the
questions the bot could not answer, clustered, with what it tried and the operator's reply;
admins turn a cluster into a draft article (hot-reloaded, then answered by the bot) or into
examples of an existing article; paths and ids are checked, nothing is overwritten."""

from __future__ import annotations

import difflib
import re
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Login

from gateway.config.settings import Settings
from gateway.keys import KB
from gateway.models import Operator
from knowledge_base.files import load_directory
from tests.conftest import DEMO_KB


@pytest.fixture
def settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    """A copy of the demo KB that the tests may write to."""
    kb = tmp_path / "kb"
    shutil.copytree(DEMO_KB, kb)
    return make_settings(knowledge_base={"path": str(kb), "reload_interval": 60})


async def _say(client: TestClient, headers: dict[str, str], customer: str,
               text: str, conversation_id: int | None = None) -> dict[str, Any]:
    response = await client.post("/api/v1/messages", headers=headers, json={
        "customer": {"id": customer}, "text": text, "conversation_id": conversation_id})
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_unanswered_questions_cluster_and_become_a_draft_article(
        client: TestClient, login: Login, api_headers: dict[str, str],
        make_operator: Callable[..., Awaitable[Operator]]) -> None:
    first = await _say(client, api_headers, "c1", "Do you sell gift cards?")
    await _say(client, api_headers, "c2", "can I buy a gift voucher for my dad")
    hours = await _say(client, api_headers, "c3", "What are your opening hours?")
    await _say(client, api_headers, "c3", "that didn't help",
               conversation_id=hours["conversation_id"])
    await _say(client, api_headers, "c4", "I want to talk to a human")  # no answer: no gap
    assert first["ticket_id"] is not None
    csrf = await login()
    reply = "Yes: gift cards of 25 to 500 euro, in every shop and online."
    assert (await client.post(f"/console/tickets/{first['ticket_id']}/reply",
                              data={"csrf": csrf, "text": reply})).status == 200

    html = await (await client.get("/console/reports/gaps")).text()
    assert "3 such questions" in html
    sections = {part[:part.index("</section>")] for part in
                html.split('<section class="card gap-cluster"')[1:]}
    gift = next(part for part in sections if "Do you sell gift cards?" in part)
    assert "2 questions" in gift and "can I buy a gift voucher for my dad" in gift
    # the article tried and how sure the bot was (the figure moves with the demo KB)
    assert re.search(r"payment-methods \(confidence 0\.\d\d\)", gift) and reply in gift
    assert 'value="sell-gift-cards"' in gift  # the proposed id
    hours_gap = next(part for part in sections if "What are your opening hours?" in part)
    assert "answer did not help (1)" in hours_gap and "opening-hours-shops (confidence 1.00)" \
        in hours_gap

    root = client.app[KB].root
    written = await client.post("/console/reports/gaps/draft", data={
        "csrf": csrf, "days": "30", "language": "en", "id": "gift-cards",
        "category": "sales", "title": "Gift cards",
        "questions": "Do you sell gift cards?\ncan I buy a gift voucher for my dad",
        "answer": reply})
    assert written.status == 200 and "Draft article <strong>gift-cards</strong>" in \
        await written.text()
    assert (root / "drafts" / "gift-cards.yaml").is_file()
    assert load_directory(root).errors == []  # what `kb lint` loads
    answered = await _say(client, api_headers, "c9", "Do you sell gift cards?")
    assert answered["ticket_id"] is None and "500 euro" in answered["replies"][0]["text"]

    again = await client.post("/console/reports/gaps/draft", data={
        "csrf": csrf, "language": "en", "id": "gift-cards", "category": "sales",
        "title": "x", "questions": "x"})
    assert again.status == 409
    for bad in ("../../etc/passwd", "Gift Cards", "a/b", ""):
        refused = await client.post("/console/reports/gaps/draft", data={
            "csrf": csrf, "language": "en", "id": bad, "category": "sales",
            "title": "x", "questions": "x"})
        assert refused.status == 400, bad
    assert sorted(p.name for p in (root / "drafts").iterdir()) == ["gift-cards.yaml"]


async def test_questions_become_examples_of_an_existing_article(
        client: TestClient, login: Login) -> None:
    csrf = await login()
    source = client.app[KB].snapshot.articles["payment-methods"].source
    assert source is not None
    before = source.read_text()
    added = await client.post("/console/reports/gaps/examples", data={
        "csrf": csrf, "article_id": "payment-methods", "language": "en",
        "questions": 'Do you take "Bancontact"?\nDo you take credit cards like Visa or'
                     ' Mastercard?\n'})
    assert added.status == 200 and "1 example questions added" in await added.text()
    diff = list(difflib.ndiff(before.splitlines(), source.read_text().splitlines()))
    changed = [line for line in diff if line[:1] in "+-?"]
    assert changed == ['+       - "Do you take \\"Bancontact\\"?"']  # comments, layout kept
    article = client.app[KB].snapshot.articles["payment-methods"]
    assert 'Do you take "Bancontact"?' in article.translations["en"].questions
    unknown = await client.post("/console/reports/gaps/examples", data={
        "csrf": csrf, "article_id": "../x", "language": "en", "questions": "q"})
    assert unknown.status == 404


async def test_supervisors_read_the_report_agents_do_not_and_only_admins_write(
        client: TestClient, login: Login,
        make_operator: Callable[..., Awaitable[Operator]]) -> None:
    await make_operator("sue", role="supervisor")
    await make_operator("gina")
    csrf = await login("sue", AGENT_PASSWORD)
    page = await client.get("/console/reports/gaps")
    assert page.status == 200 and "Write draft article" not in await page.text()
    refused = await client.post("/console/reports/gaps/draft", data={
        "csrf": csrf, "language": "en", "id": "x", "category": "sales", "title": "x",
        "questions": "x"})
    assert refused.status == 403
    await login("gina", AGENT_PASSWORD)
    assert (await client.get("/console/reports/gaps")).status == 403
