"""The Slack survey against the fake Slack Web API: the question with Block Kit buttons in
the customer's thread, a signed button press records the score once, the buttons give way
to it, and nobody else's press (or a second one) changes anything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gateway.config.settings import Settings
from gateway.keys import TICKETS
from tests.slack.conftest import CUSTOMER_DM, OPS, STRANGER, SlackDriver, eventually
from tests.slack.fake_slack import FakeSlack


@pytest.fixture
def slack_settings(make_settings: Callable[..., Settings], fake_slack: FakeSlack,
                   slack_settings: Settings) -> Settings:
    return make_settings(**{**slack_settings.model_dump(include={"slack", "server"}),
                            "csat": {"enabled": True, "delay_minutes": 0,
                                     "sweep_interval": 0.1}})


def survey_of(fake: FakeSlack) -> dict[str, Any] | None:
    return next((m for m in fake.messages(channel=CUSTOMER_DM)
                 if any(b.get("block_id") == "csat" for b in m.get("blocks") or [])), None)


async def test_slack_survey_buttons_record_the_score_once(slack: SlackDriver) -> None:
    ts = await slack.dm("I want to talk to a person")
    (ticket,) = await eventually(lambda: slack.store.tickets(("new",)))
    admin = await slack.store.operator_by_username("admin")
    assert admin is not None
    await slack.app[TICKETS].set_status(admin, ticket.id, "solved")

    async def posted() -> dict[str, Any] | None:
        return survey_of(slack.fake)

    message = await eventually(posted, timeout=20)
    assert message["thread_ts"] == ts
    assert f"Your ticket #{ticket.id} is solved" in message["text"]
    (buttons,) = [b["elements"] for b in message["blocks"] if b.get("block_id") == "csat"]
    assert [b["action_id"] for b in buttons] == [f"csat_{n}" for n in range(1, 6)]
    assert [b["text"]["text"] for b in buttons] == ["1", "2", "3", "4", "5"]

    await slack.press(message, "csat_5", user=STRANGER)  # someone else in the thread
    survey = await slack.store.survey_of_ticket(ticket.id)
    assert survey is not None and survey.status == "sent"

    await slack.press(message, "csat_5")
    (update,) = await slack.fake.wait_for("chat.update", ts=message["ts"], timeout=10)
    assert not any(b["type"] == "actions" for b in update["blocks"])
    assert "Thank you for your feedback!" in str(update["blocks"])
    await slack.press(message, "csat_1")  # a second press, from a stale copy
    await slack.fake.wait_for("chat.update", 2, ts=message["ts"], timeout=10)
    assert "already been answered" in str(slack.fake.called("chat.update")[-1]["blocks"])
    survey = await slack.store.survey_of_ticket(ticket.id)
    assert survey is not None and (survey.status, survey.score) == ("answered", 5)


async def test_a_bad_score_is_told_in_the_operators_channel(slack: SlackDriver) -> None:
    await slack.dm("I want to talk to a person")
    (ticket,) = await eventually(lambda: slack.store.tickets(("new",)))
    admin = await slack.store.operator_by_username("admin")
    assert admin is not None
    await slack.app[TICKETS].set_status(admin, ticket.id, "solved")

    async def posted() -> dict[str, Any] | None:
        return survey_of(slack.fake)

    await slack.press(await eventually(posted, timeout=20), "csat_1")

    async def alerted() -> list[dict[str, Any]]:
        return [p for p in slack.fake.called("chat.postMessage", channel=OPS)
                if "Bad satisfaction score: 1/5" in str(p.get("text"))]

    (alert,) = await eventually(alerted, timeout=10)
    assert alert["thread_ts"] and alert["reply_broadcast"] in (True, "true", "1", 1)
