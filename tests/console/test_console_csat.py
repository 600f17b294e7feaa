"""CSAT through the API channel and the console: an operator marks the ticket solved in the
console, the survey arrives as a `survey` message, the API client answers it once, and the
ticket page shows the score; a bad one reopens the ticket or alerts, as configured."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from console_helpers import Handoff, Login

from gateway.config.settings import Settings
from gateway.csat.tokens import sign
from gateway.keys import STORE, SURVEYS
from gateway.models import utcnow
from tests.conftest import ALWAYS_OPEN, API_KEY

SECRET = "a-test-csat-secret-of-at-least-32-characters"
OTHER_KEY = "other-integration-key"
CSAT: dict[str, Any] = {"enabled": True, "delay_minutes": 0, "sweep_interval": 0.1,
                        "secret": SECRET}


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(calendar=ALWAYS_OPEN, csat=CSAT, api={"integrations": {
        "test": {"key": API_KEY}, "other": {"key": OTHER_KEY}}})


async def solve(client: TestClient, login: Login, ticket_id: int) -> None:
    csrf = await login()
    solved = await client.post(f"/console/tickets/{ticket_id}/status",
                               data={"csrf": csrf, "status": "solved"})
    assert solved.status == 200, await solved.text()


async def survey_message(client: TestClient, headers: dict[str, str],
                         conversation_id: int, timeout: float = 20.0) -> dict[str, Any]:
    """Wait (with margin for a loaded machine) until the sweep's survey is in the API
    conversation."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = await client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)
        surveys = [m for m in (await got.json())["messages"] if m["kind"] == "survey"]
        if surveys:
            (survey,) = surveys
            return dict(survey)
        await asyncio.sleep(0.1)
    raise AssertionError("no survey message arrived")


async def test_api_survey_round_trip_shows_on_the_ticket_page(
        client: TestClient, login: Login, handoff: Handoff,
        api_headers: dict[str, str]) -> None:
    asked = await handoff(language="fr")
    await solve(client, login, asked["ticket_id"])
    message = await survey_message(client, api_headers, asked["conversation_id"])
    assert message["author"] == "system"
    assert message["text"].startswith(f"Votre ticket n° {asked['ticket_id']} est résolu")
    token = message["survey"]["token"]
    assert message["survey"]["scale"] == 5
    assert message["survey"]["url"].endswith(f"/surveys/{token}")

    answered = await client.post(f"/api/v1/surveys/{token}", headers=api_headers,
                                 json={"score": 4, "comment": "Rapide et clair"})
    assert answered.status == 201, await answered.text()
    assert await answered.json() == {"ticket_id": asked["ticket_id"], "score": 4,
                                     "comment": "Rapide et clair"}
    again = await client.post(f"/api/v1/surveys/{token}", headers=api_headers,
                              json={"score": 1})
    assert again.status == 409
    used = await client.get(f"/surveys/{token}?score=5")  # the link, opened again later
    assert used.status == 409
    assert "Ce questionnaire a déjà reçu une réponse" in await used.text()

    page = await (await client.get(f"/console/tickets/{asked['ticket_id']}")).text()
    assert 'id="csat-score">4 / 5<' in page and "Rapide et clair" in page
    assert "csat-bad" not in page
    ticket = await client.app[STORE].get_ticket(asked["ticket_id"])
    assert ticket is not None and ticket.status == "solved"


async def test_api_refuses_tampered_expired_and_foreign_survey_tokens(
        client: TestClient, login: Login, handoff: Handoff,
        api_headers: dict[str, str]) -> None:
    asked = await handoff()
    await solve(client, login, asked["ticket_id"])
    token = (await survey_message(client, api_headers, asked["conversation_id"]))["survey"][
        "token"]
    survey_id = int(token.split(".")[0])
    tampered = f"{survey_id + 1}.{token.split('.', 1)[1]}"
    expired = sign(SECRET, survey_id, utcnow() - timedelta(minutes=1))
    for bad, status in ((tampered, 400), ("nonsense", 400), (expired, 410)):
        refused = await client.post(f"/api/v1/surveys/{bad}", headers=api_headers,
                                    json={"score": 5})
        assert refused.status == status, (bad, await refused.text())
    foreign = await client.post(f"/api/v1/surveys/{token}", json={"score": 5},
                                headers={"Authorization": f"Bearer {OTHER_KEY}"})
    assert foreign.status == 404
    out_of_scale = await client.post(f"/api/v1/surveys/{token}", headers=api_headers,
                                     json={"score": 6})
    assert out_of_scale.status == 400
    # none of these used the survey up
    assert (await client.post(f"/api/v1/surveys/{token}", headers=api_headers,
                              json={"score": 5})).status == 201


async def test_a_bad_score_alerts_on_the_ticket_page(
        client: TestClient, login: Login, handoff: Handoff,
        api_headers: dict[str, str]) -> None:
    asked = await handoff()
    await solve(client, login, asked["ticket_id"])
    token = (await survey_message(client, api_headers, asked["conversation_id"]))["survey"][
        "token"]
    assert (await client.post(f"/api/v1/surveys/{token}", headers=api_headers,
                              json={"score": 1, "comment": "Nobody read my question"})
            ).status == 201
    page = await (await client.get(f"/console/tickets/{asked['ticket_id']}")).text()
    assert "csat-bad" in page and "Nobody read my question" in page
    assert "Bad satisfaction score: supervisors alerted" in page
    types = [e.type for e in await client.app[STORE].events(ticket_id=asked["ticket_id"])]
    assert "csat.bad_score" in types


async def test_one_survey_per_customer_within_the_quiet_period(
        client: TestClient, login: Login, handoff: Handoff,
        api_headers: dict[str, str]) -> None:
    first = await handoff(customer_id="same")
    await solve(client, login, first["ticket_id"])
    await survey_message(client, api_headers, first["conversation_id"])
    second = await handoff(customer_id="same")
    assert second["conversation_id"] != first["conversation_id"]
    await solve(client, login, second["ticket_id"])
    store = client.app[STORE]

    async def skipped() -> str | None:
        survey = await store.survey_of_ticket(second["ticket_id"])
        return survey.skip_reason if survey and survey.status == "skipped" else None

    deadline = time.monotonic() + 20
    while await skipped() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert "within 30 days" in (await skipped() or "")
    page = await (await client.get(f"/console/tickets/{second['ticket_id']}")).text()
    assert "No survey sent: the customer had a survey within 30 days." in page


async def test_a_ticket_reopened_before_the_delay_gets_no_survey(
        client: TestClient, login: Login, handoff: Handoff) -> None:
    client.app[SURVEYS].settings = client.app[SURVEYS].settings.model_copy(
        update={"delay_minutes": 60})
    asked = await handoff()
    await solve(client, login, asked["ticket_id"])
    csrf = await login()
    await client.post(f"/console/tickets/{asked['ticket_id']}/status",
                      data={"csrf": csrf, "status": "open"})
    store = client.app[STORE]
    survey = await store.survey_of_ticket(asked["ticket_id"])
    assert survey is not None and survey.status == "scheduled"
    assert survey.due_at > utcnow() + timedelta(minutes=59)
    await store.db.execute("UPDATE csat_surveys SET due_at = ? WHERE id = ?",
                           "2000-01-01T00:00:00.000000Z", survey.id)
    deadline = time.monotonic() + 20
    while (s := await store.get_survey(survey.id)) and s.status == "scheduled" \
            and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert s is not None and (s.status, s.skip_reason) == ("skipped", "the ticket is open again")


async def test_a_bad_score_reopens_the_ticket_when_configured(
        client: TestClient, login: Login, handoff: Handoff,
        api_headers: dict[str, str]) -> None:
    client.app[SURVEYS].settings = client.app[SURVEYS].settings.model_copy(
        update={"reopen_on_bad_score": True, "notify_on_bad_score": False, "bad_score": 3})
    asked = await handoff()
    await solve(client, login, asked["ticket_id"])
    token = (await survey_message(client, api_headers, asked["conversation_id"]))["survey"][
        "token"]
    assert (await client.post(f"/api/v1/surveys/{token}", headers=api_headers,
                              json={"score": 3})).status == 201
    store = client.app[STORE]
    ticket = await store.get_ticket(asked["ticket_id"])
    assert ticket is not None and ticket.status == "open"
    types = [e.type for e in await store.events(ticket_id=ticket.id)]
    assert "csat.bad_score" not in types and types[-1] == "ticket.open"
