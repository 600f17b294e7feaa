"""Posting to Slack: pacing per channel and Slack's failures mapped to the outbox's errors."""

from __future__ import annotations

import socket
import time

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from connectors.slack.webapi import Pacer, SlackPoster
from gateway.errors import DeliveryError, DeliveryRetryLater
from tests.slack.fake_slack import FakeSlack


async def test_pacer_allows_a_burst_then_about_one_post_per_interval() -> None:
    pacer = Pacer(per_second=20, burst=2)
    started = time.monotonic()
    for _ in range(4):
        await pacer.wait("C1")
    await pacer.wait("C2")  # another channel has its own budget
    assert 0.08 <= time.monotonic() - started < 0.5


async def test_429_becomes_retry_later_with_slacks_retry_after(fake_slack: FakeSlack) -> None:
    poster = SlackPoster(AsyncWebClient(token="xoxb-test", base_url=fake_slack.url,
                                        retry_handlers=[]), Pacer(per_second=0))
    fake_slack.rate_limit("chat.postMessage", 7)
    with pytest.raises(DeliveryRetryLater) as caught:
        await poster.post(channel="C1", text="hi")
    assert caught.value.retry_after == 7
    posted = await poster.post(channel="C1", text="hi")
    assert posted["channel"] == "C1" and posted["ts"]


async def test_a_refusal_is_permanent(fake_slack: FakeSlack) -> None:
    poster = SlackPoster(AsyncWebClient(token="xoxb-test", base_url=fake_slack.url,
                                        retry_handlers=[]), Pacer(per_second=0))
    with pytest.raises(DeliveryError) as caught:
        await poster.post(channel="", text="hi")
    assert not isinstance(caught.value, DeliveryRetryLater)
    assert "channel_not_found" in str(caught.value)


async def test_slack_unreachable_is_retried_later() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    poster = SlackPoster(AsyncWebClient(token="xoxb-test",
                                        base_url=f"http://127.0.0.1:{port}/api/",
                                        retry_handlers=[]), Pacer(per_second=0))
    with pytest.raises(DeliveryRetryLater):
        await poster.post(channel="C1", text="hi")
