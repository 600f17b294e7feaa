"""Back-office choices on Slack (issue 19), against the fake Slack Web API: the shops and the
free test-ride slots come as Block Kit buttons, a press answers with its number like a typed
one, and the booking asks for a confirmation before anything is posted to the back office."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from gateway.config.settings import Settings
from tests.conftest import ALWAYS_OPEN
from tests.integrations.conftest import integration
from tests.integrations.fake_backoffice import FakeBackOffice
from tests.slack.conftest import CUSTOMER_DM, SlackDriver, eventually
from tests.slack.fake_slack import FakeSlack


@pytest.fixture
async def backoffice(aiohttp_server: Callable[..., Any]) -> tuple[FakeBackOffice, TestServer]:
    fake = FakeBackOffice(slots={"Ghent": ["Sat 10:00", "Sat 11:00"]})
    return fake, await aiohttp_server(fake.app())


@pytest.fixture
def slack_settings(make_settings: Callable[..., Settings], fake_slack: FakeSlack,
                   slack_settings: Settings,
                   backoffice: tuple[FakeBackOffice, TestServer]) -> Settings:
    return make_settings(**{**slack_settings.model_dump(include={"slack", "server"}),
                            "calendar": ALWAYS_OPEN,
                            "integrations": {"backoffice": integration(backoffice[1])}})


def _buttons(message: dict[str, Any]) -> list[str]:
    return [e["text"]["text"] for b in message.get("blocks") or [] if b["type"] == "actions"
            for e in b["elements"]]


async def test_choices_are_buttons_and_a_press_answers_with_its_number(
        slack: SlackDriver, backoffice: tuple[FakeBackOffice, TestServer]) -> None:
    await slack.dm("I want to book a test ride on Saturday")

    async def posted(n: int) -> dict[str, Any] | None:
        found = slack.fake.messages(channel=CUSTOMER_DM)
        return found[n - 1] if len(found) >= n else None

    shops = await eventually(lambda: posted(1), timeout=20)
    assert _buttons(shops) == ["Ghent", "Antwerp", "Brussels", "Liège"]
    await slack.press(shops, "choice_1")
    slots = await eventually(lambda: posted(2), timeout=20)
    assert _buttons(slots) == ["Sat 10:00", "Sat 11:00"]
    assert "1. Sat 10:00" in slots["text"]  # the numbered list stays for notifications
    await slack.press(slots, "choice_2")
    confirm = await eventually(lambda: posted(3), timeout=20)
    assert "I will book a 30-minute test ride in Ghent on Sat 11:00." in confirm["text"]
    assert [c for c in backoffice[0].calls if c.method == "POST"] == []
