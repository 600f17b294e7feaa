"""Socket Mode: the same listeners fed over a WebSocket instead of signed HTTP requests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from connectors.slack.connector import SlackConnector
from connectors.slack.webapi import Pacer
from gateway.config.settings import Settings
from gateway.keys import CONNECTORS
from tests.slack.conftest import CUSTOMER, CUSTOMER_DM, eventually
from tests.slack.fake_slack import TEAM, FakeSlack


async def test_socket_mode_event_is_acked_and_answered_once(
        fake_slack: FakeSlack, aiohttp_client: Callable[..., Any],
        make_settings: Callable[..., Settings]) -> None:
    from gateway.app import create_app

    settings = make_settings(slack={"enabled": True, "mode": "socket", "app_token": "xapp-1",
                                    "bot_token": "xoxb-test", "api_url": fake_slack.url})
    app = create_app(settings)
    connector = app[CONNECTORS]["slack"]
    assert isinstance(connector, SlackConnector)
    connector.poster.pacer = Pacer(per_second=0)
    client: TestClient = await aiohttp_client(app)
    assert (await client.post("/slack/events", data="{}")).status in (404, 405)

    event = {"type": "message", "channel": CUSTOMER_DM, "user": CUSTOMER, "team": TEAM,
             "text": "How long does delivery take?", "ts": "1800000100.000100",
             "channel_type": "im"}
    body = {"token": "legacy", "team_id": TEAM, "api_app_id": "A0APP", "event": event,
            "type": "event_callback", "event_id": "Ev0SOCKET1", "event_time": int(time.time())}
    for attempt, envelope_id in enumerate(("env-1", "env-2")):  # the second is Slack's retry
        await fake_slack.envelopes.put({"envelope_id": envelope_id, "type": "events_api",
                                        "accepts_response_payload": False, "payload": body,
                                        "retry_attempt": attempt, "retry_reason": ""})
    (post,) = await fake_slack.wait_for("chat.postMessage", channel=CUSTOMER_DM)
    assert post["thread_ts"] == "1800000100.000100"
    assert "3 to 5 working days" in str(post["text"])
    calls = [c for c in fake_slack.calls if c.method == "apps.connections.open"]
    assert calls[0].token == "xapp-1"

    async def acked() -> bool:
        return {a.get("envelope_id") for a in fake_slack.acks} >= {"env-1", "env-2"}

    await eventually(acked)
    assert len(fake_slack.called("chat.postMessage", channel=CUSTOMER_DM)) == 1
