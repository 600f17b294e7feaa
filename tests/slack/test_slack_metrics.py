"""/metrics counts the Slack Web API's rate-limited answers (from the fake Slack server)."""

from __future__ import annotations

from tests.slack.conftest import SlackDriver, eventually
from tests.test_metrics import count, scrape

QUESTION = "How long does delivery to Belgium take?"


async def test_a_429_from_slack_is_counted_and_the_reply_still_goes_out(
        slack: SlackDriver) -> None:
    assert count(await scrape(slack.client), "helpdesk_slack_rate_limited_total") == 0
    slack.fake.rate_limit("chat.postMessage", 1)
    await slack.dm(QUESTION)
    await eventually(lambda: slack.store.outbox_entries("sent"), timeout=30)
    figures = await scrape(slack.client)
    assert count(figures, "helpdesk_slack_rate_limited_total",
                 method="chat.postMessage") == 1
    assert count(figures, "helpdesk_messages_out_total", channel="slack", status="retry") == 1
    assert count(figures, "helpdesk_messages_out_total", channel="slack", status="sent") == 1
    assert count(figures, "helpdesk_messages_in_total", channel="slack") == 1
