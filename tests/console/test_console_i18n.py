"""The console in the operator's language, through HTTP: the browser's Accept-Language, then
the operator's own choice (stored), then the desk's default; labels, plurals, dates and
figures in that language; two operators in two languages at the same moment."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import AGENT_PASSWORD, Handoff, csrf_of

from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.console import i18n
from gateway.keys import STORE
from gateway.models import Operator, utcnow

MakeOperator = Callable[..., Awaitable[Operator]]


async def _log_in(client: TestClient, username: str, accept: str = "") -> str:
    client.session.cookie_jar.clear()
    headers = {"Accept-Language": accept} if accept else {}
    form = await client.get("/console/login", headers=headers)
    response = await client.post("/console/login", headers=headers, data={
        "csrf": csrf_of(await form.text()), "username": username, "password": AGENT_PASSWORD})
    assert response.status == 200 and response.url.path == "/console"
    return csrf_of(await response.text())


@pytest.mark.parametrize(("accept", "language"), [
    ("nl-BE,nl;q=0.9,en;q=0.8", "nl"), ("de-DE", "de"), ("fr-BE;q=0.9, it;q=1", "fr"),
    ("es, pt;q=0.5", "en"), ("", "en"), ("fr;q=0, nl;q=0.3", "nl"),
])
def test_the_browser_chooses_among_the_console_languages(accept: str, language: str) -> None:
    assert i18n.choose(None, accept, "en") == language
    assert i18n.choose("de", accept, "en") == "de"  # the operator's own choice wins


async def test_the_login_page_speaks_the_browser_language(client: TestClient) -> None:
    page = await (await client.get("/console/login",
                                   headers={"Accept-Language": "nl-BE,nl;q=0.9"})).text()
    assert '<html lang="nl">' in page
    assert '<label for="username">Gebruikersnaam</label>' in page
    assert '<button type="submit">Aanmelden</button>' in page
    english = await (await client.get("/console/login")).text()
    assert '<button type="submit">Log in</button>' in english


async def test_a_wrong_password_is_said_in_french(client: TestClient,
                                                  make_operator: MakeOperator) -> None:
    await make_operator("wallonie")
    headers = {"Accept-Language": "fr-BE"}
    form = await client.get("/console/login", headers=headers)
    refused = await client.post("/console/login", headers=headers, data={
        "csrf": csrf_of(await form.text()), "username": "wallonie", "password": "nope"})
    assert refused.status == 401
    assert "Nom d&#39;utilisateur ou mot de passe incorrect." in await refused.text()


async def test_without_a_browser_language_the_desk_default_is_spoken(
    aiohttp_client: Callable[..., Awaitable[TestClient]], make_settings: Callable[..., Settings],
) -> None:
    client = await aiohttp_client(create_app(make_settings(languages={"default": "de"})))
    page = await (await client.get("/console/login")).text()
    assert '<html lang="de">' in page and "Benutzername" in page
    spanish = await (await client.get("/console/login", headers={"Accept-Language": "es"})).text()
    assert "Benutzername" in spanish


async def test_the_operator_chooses_a_language_that_stays_with_them(
    client: TestClient, make_operator: MakeOperator, handoff: Handoff
) -> None:
    await handoff(customer_id="c1", name="Ann")
    await handoff(customer_id="c2", name="Bob")
    operator = await make_operator("luc")
    csrf = await _log_in(client, "luc", accept="en-GB")
    chosen = await client.post("/console/language", data={
        "csrf": csrf, "language": "fr", "next": "/console?status=new"})
    assert chosen.url.path_qs == "/console?status=new"
    page = await chosen.text()
    assert '<html lang="fr">' in page
    assert "Tickets ouverts" in page and "Se déconnecter" in page
    assert "2 tickets correspondent aux filtres" in page
    assert '<option value="pending">en attente</option>' in page  # a status, translated
    assert '<option value="fr" lang="fr" selected>Français</option>' in page
    stored = await client.app[STORE].get_operator(operator.id)
    assert stored is not None and stored.locale == "fr"
    # the next login, from an English browser, is French again
    await _log_in(client, "luc", accept="en-GB")
    page = await (await client.get("/console", headers={"Accept-Language": "en"})).text()
    assert "Tickets ouverts" in page
    # back to following the browser
    csrf = csrf_of(page)
    back = await client.post("/console/language", headers={"Accept-Language": "nl-BE"},
                             data={"csrf": csrf, "language": "", "next": "/console"})
    assert "Open tickets" in await back.text() and "Afmelden" in await back.text()


async def test_an_unknown_language_or_a_missing_token_is_refused(
    client: TestClient, make_operator: MakeOperator
) -> None:
    operator = await make_operator("eva")
    csrf = await _log_in(client, "eva")
    refused = await client.post("/console/language", data={"csrf": csrf, "language": "xx"})
    assert refused.status == 400 and "en, fr, nl, de" in await refused.text()
    forged = await client.post("/console/language", data={"language": "nl"})
    assert forged.status == 403
    stored = await client.app[STORE].get_operator(operator.id)
    assert stored is not None and stored.locale is None


async def test_dates_plurals_and_relative_times_follow_the_language(
    client: TestClient, make_operator: MakeOperator, handoff: Handoff
) -> None:
    ticket_id = (await handoff())["ticket_id"]
    ticket = await client.app[STORE].get_ticket(ticket_id)
    assert ticket is not None
    await make_operator("an")
    csrf = await _log_in(client, "an")
    page = await (await client.post("/console/language", data={
        "csrf": csrf, "language": "nl", "next": "/console"})).text()
    local = ticket.created_at.astimezone(ZoneInfo("Europe/Brussels"))
    months = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov",
              "dec"]
    shown = f"{local.day} {months[local.month - 1]} {local.year} {local:%H:%M %Z}"
    assert shown in page  # Dutch month, Brussels time: "2 dec 2026 14:05 CET"
    assert "1 open ticket" in page  # singular
    row = page[page.index(f'data-ticket-id="{ticket_id}"'):]
    assert re.search(r">1 min\. geleden</time>", row), row[:2000]
    assert '<span class="badge status-new">nieuw</span>' in row


async def test_two_operators_in_two_languages_at_the_same_moment(
    client: TestClient, make_operator: MakeOperator, handoff: Handoff,
    aiohttp_client: Callable[..., Awaitable[TestClient]],
) -> None:
    """Requests interleave on one event loop: the language is the request's, never the
    environment's."""
    await handoff()
    for username, language in (("marie", "fr"), ("joost", "nl")):
        await make_operator(username)
        operator = await client.app[STORE].operator_by_username(username)
        assert operator is not None
        await client.app[STORE].set_operator_locale(operator.id, language)
    french = await aiohttp_client(client.server)
    dutch = await aiohttp_client(client.server)
    await asyncio.gather(_log_in(french, "marie"), _log_in(dutch, "joost"))
    pages = await asyncio.gather(*((french if n % 2 else dutch).get("/console")
                                   for n in range(20)))
    texts = await asyncio.gather(*(page.text() for page in pages))
    for n, text in enumerate(texts):
        assert ("Se déconnecter" if n % 2 else "Afmelden") in text
        assert ("Afmelden" if n % 2 else "Se déconnecter") not in text


async def test_the_contacts_export_keeps_codes_beside_french_labels(
    client: TestClient, login: Callable[..., Awaitable[str]], handoff: Handoff
) -> None:
    ticket = (await handoff())["ticket_id"]
    csrf = await login()
    await client.post("/console/language", data={"csrf": csrf, "language": "fr"})
    for action, data in (("take", {}), ("close", {"outcome": "answered", "summary": "ok"})):
        done = await client.post(f"/console/tickets/{ticket}/{action}",
                                 data={"csrf": csrf, **data})
        assert done.status == 200, action
    today = utcnow().date().isoformat()
    answer = await client.get("/console/reports/contacts.csv",
                              params={"from": today, "to": today})
    (row,) = csv.DictReader(io.StringIO((await answer.read()).decode("utf-8-sig")))
    assert (row["outcome"], row["outcome_label"]) == ("answered", "répondu")
    assert (row["status_now"], row["status_now_label"]) == ("closed", "clôturé")
    assert list(row)[3:8] == ["outcome", "outcome_label", "summary", "status_now",
                              "status_now_label"]


async def test_an_admin_sets_an_operators_console_language(
    client: TestClient, login: Callable[..., Awaitable[str]], make_operator: MakeOperator
) -> None:
    operator = await make_operator("noor")
    csrf = await login()
    page = await (await client.get("/console/admin/operators/noor")).text()
    assert '<option value="" selected>As their browser</option>' in page
    saved = await client.post("/console/admin/operators/noor", data={
        "csrf": csrf, "display_name": "Noor", "role": "agent", "queues": "general",
        "languages": "nl", "active": "on", "locale": "nl"})
    assert saved.status == 200
    stored = await client.app[STORE].get_operator(operator.id)
    assert stored is not None and stored.locale == "nl"
    assert '<option value="nl" lang="nl" selected>Nederlands</option>' in await (
        await client.get("/console/admin/operators/noor")).text()
    await _log_in(client, "noor", accept="fr-BE")
    assert "Afmelden" in await (await client.get("/console")).text()


async def test_a_french_supervisor_reads_the_dashboards_in_french_and_the_csv_keeps_codes(
    client: TestClient, handoff: Handoff, make_operator: MakeOperator,
    api_headers: dict[str, str]
) -> None:
    conversations = []
    for customer in ("c1", "c2", "c3"):  # three answers, one followed by a hand-off
        answered = await client.post("/api/v1/messages", headers=api_headers, json={
            "customer": {"id": customer}, "text": "What are your opening hours?"})
        assert answered.status == 201
        conversations.append((await answered.json())["conversation_id"])
    await handoff("I want to talk to a human about my invoice", customer_id="c1",
                  conversation_id=conversations[0])
    await make_operator("sophie", role="supervisor")
    csrf = await _log_in(client, "sophie")
    await client.post("/console/language", data={"csrf": csrf, "language": "fr"})
    page = await (await client.get("/console/dashboards")).text()
    assert '<h2 id="volume-by-day-heading">Tickets ouverts par jour</h2>' in page
    assert '<h2 id="sla-heading">Respect du SLA par file et priorité</h2>' in page
    assert "<caption>Nouveaux tickets de la période par canal.</caption>" in page
    assert '<title id="chart-sla-title">SLA respecté (%)</title>' in page
    assert '<th scope="col">première réponse, médiane</th>' in page
    assert "<td>(toutes les files)</td>" in page  # the timings' all-queues row
    # 2 of 3 answers contained: 66.7 % written the French way, in the table and the chart
    assert "<td>66,7</td>" in page and ">66,7 %</text>" in page
    assert "Download" not in page and "Tickets opened per day" not in page
    assert "Télécharger tickets ouverts par jour (CSV)" in page
    today = utcnow().date().isoformat()
    answer = await client.get("/console/dashboards/volume-by-category.csv",
                              params={"from": today, "to": today})
    rows = list(csv.DictReader(io.StringIO((await answer.read()).decode("utf-8-sig"))))
    assert list(rows[0]) == ["category", "category_label", "tickets"]
    for bad, says in (({"queue": "nope"}, "Cette file n&#39;existe pas."),
                      ({"from": "2020-01-01"}, "Affichez au plus 366 jours à la fois.")):
        refused = await client.get("/console/dashboards", params=bad)
        assert refused.status == 400 and says in await refused.text()
    timings = await client.get("/console/dashboards/timings.csv")
    header = (await timings.read()).decode("utf-8-sig").splitlines()[0]
    assert header == ("queue,replied,first_response_median,first_response_p90,resolved,"
                      "resolution_median,resolution_p90")


async def test_refusals_of_the_ticket_service_and_password_rules_are_said_in_french(
    client: TestClient, login: Callable[..., Awaitable[str]], handoff: Handoff
) -> None:
    first = (await handoff(text="I want to talk to a human about my invoice"))["ticket_id"]
    stranger = (await handoff(customer_id="c9", name="Zed"))["ticket_id"]
    csrf = await login()
    await client.post("/console/language", data={"csrf": csrf, "language": "fr"})
    merged = await client.post(f"/console/tickets/{first}/merge",
                               data={"csrf": csrf, "into": str(stranger)})
    assert merged.status == 409
    assert "seul un autre ticket du même client peut être fusionné" in await merged.text()
    transfer = await client.post(f"/console/tickets/{first}/transfer",
                                 data={"csrf": csrf, "queue": "nowhere", "reason": "x"})
    assert transfer.status == 409
    assert "aucune file ne s&#39;appelle &#39;nowhere&#39;" in await transfer.text()
    refused = await client.post("/console/admin/operators", data={
        "csrf": csrf, "username": "alex", "display_name": "Alex", "role": "agent",
        "queues": "billing", "languages": "nl", "password": "short"})
    assert refused.status == 400
    text = await refused.text()
    assert "Le mot de passe doit compter au moins 12 caractères." in text
    assert "at least 12" not in text
