"""An operator whose Slack e-mail is not their console username, mapped in `[slack] operators`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.access.auth import hash_password
from gateway.config.settings import Settings
from tests.slack.conftest import OPS, SIGNING_SECRET, STRANGER, SlackDriver, eventually
from tests.slack.fake_slack import FakeSlack
from tests.slack.test_slack_operators import hand_off


@pytest.fixture
def slack_settings(make_settings: Callable[..., Settings], fake_slack: FakeSlack) -> Settings:
    return make_settings(
        slack={"enabled": True, "api_url": fake_slack.url, "signing_secret": SIGNING_SECRET,
               "bot_token": "xoxb-test", "operators_channel": OPS,
               "operators": {STRANGER: "eve"}},
    )


async def test_a_mapped_slack_user_acts_as_that_operator(slack: SlackDriver) -> None:
    eve = await slack.store.create_operator("eve", "Eve", hash_password("eve-password-1"),
                                            "supervisor")
    _, card = await hand_off(slack)
    (ticket,) = await slack.store.tickets(("new",))
    await slack.press(card, "ticket_take", user=STRANGER, channel=OPS)

    async def taken() -> bool:
        current = await slack.store.get_ticket(ticket.id)
        return current is not None and current.assignee_id == eve.id


    await eventually(taken)
    assert slack.fake.called("chat.postEphemeral", user=STRANGER) == []
