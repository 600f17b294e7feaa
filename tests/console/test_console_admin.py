"""The admin page (operators, creating one), presence from the header, and knowledge-base
errors shown to the people who can fix them. This module's KB has one broken file."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from http.cookies import BaseCookie
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Login, csrf_of

from gateway.config.settings import Settings
from gateway.keys import SETTINGS, STORE
from gateway.models import Operator
from gateway.tickets.routing import agents
from tests.conftest import DEMO_KB

MakeOperator = Callable[..., Awaitable[Operator]]


def _back_to(client: TestClient, cookies: BaseCookie[str]) -> None:
    """Use an earlier session's cookie again, as a browser tab left open would."""
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies(cookies, client.make_url("/"))


async def _login_status(client: TestClient, username: str, password: str) -> int:
    client.session.cookie_jar.clear()
    form = await (await client.get("/console/login")).text()
    answer = await client.post("/console/login", data={
        "csrf": csrf_of(form), "username": username, "password": password})
    return answer.status


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
        ({"password": "short"}, 400, "at least 12 characters"),
        ({"password": "qwerty123456"}, 400, "among the most common"),
        ({"password": "            "}, 400, "The password is empty"),
        ({"username": "alexandra-martin", "password": "Alexandra-Martin"}, 400,
         "must not be the username"),
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


async def test_admin_changes_an_operator_and_resets_the_password(
    client: TestClient, login: Login, make_operator: MakeOperator
) -> None:
    await make_operator("gina", queues=["general"], languages=["en"])
    csrf = await login()
    admin = await (await client.get("/console/admin")).text()
    assert 'href="/console/admin/operators/gina"' in admin
    page = await client.get("/console/admin/operators/gina")
    html = await page.text()
    assert page.status == 200
    for label in ("edit-display-name", "edit-role", "edit-password"):
        assert f'<label for="{label}">' in html
    assert 'id="edit-active" name="active" type="checkbox" checked' in html

    form = {"csrf": csrf, "display_name": "Gina Peeters", "role": "supervisor",
            "queues": ["general", "sales"], "languages": ["en", "nl"], "active": "on",
            "password": ""}
    for change, says in (({"role": "root"}, "The role must be one of"),
                         ({"languages": []}, "Choose at least one language"),
                         ({"password": "short"}, "at least 12 characters")):
        refused = await client.post("/console/admin/operators/gina", data={**form, **change})
        assert refused.status == 400, change
        assert says in await refused.text(), change
    saved = await client.post("/console/admin/operators/gina", data=form)
    assert saved.url.path == "/console/admin"
    assert "Operator gina updated." in await saved.text()
    gina = await client.app[STORE].operator_by_username("gina")
    assert gina is not None
    assert (gina.display_name, gina.role, gina.queues, gina.languages) == (
        "Gina Peeters", "supervisor", ("general", "sales"), ("en", "nl"))
    assert (await client.get("/console/admin/operators/nobody")).status == 404

    # a new password replaces the old one and ends the sessions opened with it
    await login("gina", AGENT_PASSWORD)
    gina_cookies = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    csrf = await login()
    await client.post("/console/admin/operators/gina",
                      data={**form, "csrf": csrf, "password": "brand-new-pass"})
    _back_to(client, gina_cookies)
    assert (await client.get("/console")).url.path == "/console/login"
    assert await _login_status(client, "gina", AGENT_PASSWORD) == 401
    await login("gina", "brand-new-pass")
    assert (await client.get("/console")).url.path == "/console"


async def test_deactivating_an_operator_logs_them_out_and_returns_their_tickets(
    client: TestClient, login: Login, make_operator: MakeOperator,
    handoff: Callable[..., Awaitable[dict[str, object]]]
) -> None:
    await make_operator("gina")
    ticket_id = (await handoff())["ticket_id"]
    csrf = await login("gina", AGENT_PASSWORD)
    assert (await client.post(f"/console/tickets/{ticket_id}/take",
                              data={"csrf": csrf})).status == 200
    gina_cookies = client.session.cookie_jar.filter_cookies(client.make_url("/"))

    csrf = await login()
    done = await client.post("/console/admin/operators/gina", data={
        "csrf": csrf, "display_name": "Gina", "role": "agent", "queues": "general",
        "languages": "en"})  # "active" left unticked
    html = await done.text()
    assert "Operator gina updated. 1 ticket went back to its queue." in html
    row = html[html.index('data-operator="gina"'):]
    assert "(inactive)" in row[:row.index("</tr>")]

    ticket = await client.app[STORE].get_ticket(int(str(ticket_id)))
    assert ticket is not None and ticket.assignee_id is None and ticket.status == "open"
    trail = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert "Back to the queue (operator deactivated)" in trail

    _back_to(client, gina_cookies)  # her console tab, still open
    assert (await client.get("/console")).url.path == "/console/login"
    assert await _login_status(client, "gina", AGENT_PASSWORD) == 401

    csrf = await login()
    await client.post("/console/admin/operators/gina", data={
        "csrf": csrf, "display_name": "Gina", "role": "agent", "queues": "general",
        "languages": "en", "active": "on"})
    await login("gina", AGENT_PASSWORD)  # back at work after reactivation
    assert (await client.get("/console")).url.path == "/console"


async def test_an_admin_cannot_lock_themselves_out(client: TestClient, login: Login,
                                                   make_operator: MakeOperator) -> None:
    await make_operator("sue", role="supervisor")
    csrf = await login()
    form = {"csrf": csrf, "display_name": "Admin", "role": "admin", "queues": "general",
            "languages": "en", "active": "on"}
    for change in ({"active": ""}, {"role": "supervisor"}):
        refused = await client.post("/console/admin/operators/admin", data={**form, **change})
        assert refused.status == 400, change
        assert "another admin must do it" in await refused.text()
    admin = await client.app[STORE].operator_by_username("admin")
    assert admin is not None and admin.active and admin.role == "admin"

    csrf = await login("sue", AGENT_PASSWORD)
    for method, kwargs in (("get", {}), ("post", {"data": {**form, "csrf": csrf,
                                                           "role": "agent"}})):
        answer = await getattr(client, method)("/console/admin/operators/admin", **kwargs)
        assert answer.status == 403, method
