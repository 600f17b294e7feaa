"""The admin page (operators, creating one), presence from the header, and knowledge-base
errors shown to the people who can fix them. This module's KB has one broken file."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Login

from gateway.keys import SETTINGS, STORE
from gateway.models import Operator
from gateway.routing import agents
from gateway.settings import Settings
from tests.conftest import DEMO_KB

MakeOperator = Callable[..., Awaitable[Operator]]


@pytest.fixture
def settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    kb = tmp_path / "kb"
    shutil.copytree(DEMO_KB, kb)
    (kb / "broken.yaml").write_text("id: broken\ncategory: [not, a, category\n")
    return make_settings(knowledge_base={"path": str(kb), "reload_interval": 60})


async def test_admin_page_is_for_admins_only(client: TestClient, login: Login,
                                             make_operator: MakeOperator) -> None:
    await make_operator("gina")
    await make_operator("sue", role="supervisor")
    for who in ("gina", "sue"):
        csrf = await login(who, AGENT_PASSWORD)
        listing = await (await client.get("/console")).text()
        assert 'href="/console/admin"' not in listing
        page = await client.get("/console/admin")
        assert page.status == 403, who
        assert "This page is for admins." in await page.text()
        posted = await client.post("/console/admin/operators", data={
            "csrf": csrf, "username": "mallory", "role": "admin", "queues": "general",
            "languages": "en", "password": "long-enough-1"})
        assert posted.status == 403, who
    assert await client.app[STORE].operator_by_username("mallory") is None


async def test_admin_lists_operators_and_creates_one(client: TestClient, login: Login,
                                                     make_operator: MakeOperator) -> None:
    await make_operator("gina", queues=["general", "sales"], languages=["en", "fr"])
    csrf = await login()
    page = await client.get("/console/admin")
    html = await page.text()
    assert page.status == 200
    row = html[html.index('data-operator="gina"'):]
    row = row[:row.index("</tr>")]
    for shown in ("Gina", "agent", "general, sales", "en, fr", "away"):
        assert shown in row
    for label in ("new-username", "new-display-name", "new-role", "new-password"):
        assert f'<label for="{label}">' in html
    assert "<legend>Queues</legend>" in html and "<legend>Languages</legend>" in html

    form = {"csrf": csrf, "username": "alex", "display_name": "Alex <Martin>",
            "role": "agent", "queues": "billing", "languages": "nl",
            "password": "alex-password-1"}
    for change, status, says in (
        ({"password": "short"}, 400, "at least 8 characters"),
        ({"username": "Bad Name!"}, 400, "The username needs"),
        ({"role": "root"}, 400, "The role must be one of"),
        ({"queues": "nowhere"}, 400, "Choose queues among those configured"),
        ({"username": "gina"}, 409, "There is already an operator named gina"),
    ):
        refused = await client.post("/console/admin/operators", data={**form, **change})
        text = await refused.text()
        assert refused.status == status, change
        assert says in text, change
        assert 'value="alex-password-1"' not in text  # a password is never echoed
    created = await client.post("/console/admin/operators", data=form)
    html = await created.text()
    assert created.url.path == "/console/admin" and "Operator alex created." in html
    assert "Alex &lt;Martin&gt;" in html
    alex = await client.app[STORE].operator_by_username("alex")
    assert alex is not None
    assert (alex.role, alex.queues, alex.languages) == ("agent", ("billing",), ("nl",))

    await login("alex", "alex-password-1")  # the new operator can work at once
    listing = await (await client.get("/console")).text()
    assert "in your queues (billing)" in listing


async def test_presence_and_capacity_from_the_header(client: TestClient, login: Login,
                                                     make_operator: MakeOperator) -> None:
    gina = await make_operator("gina")
    csrf = await login("gina", AGENT_PASSWORD)
    page = await (await client.get("/console")).text()
    assert '<label for="presence">Presence</label>' in page
    assert '<option value="away" selected>' in page  # never set: away

    done = await client.post("/console/presence", data={
        "csrf": csrf, "presence": "available", "capacity": "3", "next": "/console"})
    html = await done.text()
    assert "Presence updated." in html
    assert '<option value="available" selected>' in html and 'value="3"' in html
    status = {a.id: a for a in await agents(client.app[STORE],
                                            client.app[SETTINGS].calendar.calendar)}[gina.id]
    assert (status.presence, status.capacity) == ("available", 3)

    back = await client.post("/console/presence", data={
        "csrf": csrf, "presence": "busy", "next": "https://evil.example/"})
    assert back.url.path == "/console"  # only ever back into the console
    for bad in ({"presence": "asleep"}, {"presence": "busy", "capacity": "-1"},
                {"presence": "busy", "capacity": "many"}):
        assert (await client.post("/console/presence", data={"csrf": csrf, **bad})).status \
            == 400, bad
    assert (await client.post("/console/presence", data={"presence": "away"})).status == 403

    await login()
    admin = await (await client.get("/console/admin")).text()
    row = admin[admin.index('data-operator="gina"'):]
    assert 'presence-busy">busy<' in row[:row.index("</tr>")]


async def test_knowledge_base_errors_are_shown_to_supervisors_and_admins(
    client: TestClient, login: Login, make_operator: MakeOperator
) -> None:
    await make_operator("gina")
    await make_operator("sue", role="supervisor")
    for who, shown in (("admin", True), ("sue", True), ("gina", False)):
        await login(who, AGENT_PASSWORD if who != "admin" else None)
        html = await (await client.get("/console")).text()
        assert ("broken.yaml" in html) is shown, who
        assert ("did not load" in html) is shown, who
    await login()
    assert "broken.yaml" in await (await client.get("/console/admin")).text()
