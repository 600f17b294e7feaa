"""Fixtures for the Slack tests: the fake Slack Web API, the gateway pointed at it, and a
`SlackDriver` that posts correctly (or wrongly) signed Events API and interactivity requests.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from connectors.slack.connector import SlackConnector
from connectors.slack.webapi import Pacer
from gateway.access.auth import hash_password
from gateway.config.settings import Settings
from gateway.keys import CONNECTORS, STORE
from gateway.store import Store
from tests.slack.fake_slack import BOT_USER, TEAM, FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
OPS = "C0OPS"
CUSTOMER = "U0ANN"
CUSTOMER_EMAIL = "ann.peeters@example.com"
CUSTOMER_DM = "D0ANN"
OPERATOR = "U0ALICE"
OPERATOR_EMAIL = "alice@velora.be"
STRANGER = "U0EVE"


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 5.0) -> Any:
    """Poll `check` until it returns something truthy (work after the ack is asynchronous)."""
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(0.02)
    return result


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user(CUSTOMER, "Ann Peeters", CUSTOMER_EMAIL)
    fake.add_user(OPERATOR, "Alice Martens", OPERATOR_EMAIL)
    fake.add_user(STRANGER, "Eve Stranger", "eve@elsewhere.example")
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def slack_settings(make_settings: Callable[..., Settings], fake_slack: FakeSlack) -> Settings:
    return make_settings(
        slack={"enabled": True, "api_url": fake_slack.url, "signing_secret": SIGNING_SECRET,
               "bot_token": "xoxb-test", "operators_channel": OPS},
        server={"public_url": "https://help.velora.be"},
    )


class SlackDriver:
    """Speaks to the gateway the way Slack does: signed JSON events, signed form payloads."""

    def __init__(self, client: TestClient, fake: FakeSlack) -> None:
        self.client = client
        self.fake = fake
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)

    @property
    def app(self) -> Application:
        return self.client.app  # type: ignore[return-value]

    @property
    def store(self) -> Store:
        return self.app[STORE]

    def next_ts(self) -> str:
        return f"1800000{next(self._ts):03d}.000200"

    def headers(self, body: str, *, secret: str = SIGNING_SECRET, age: int = 0,
                retry: int | None = None, content_type: str = "application/json",
                ) -> dict[str, str]:
        """The signature: `v0=` HMAC-SHA256 of `v0:<timestamp>:<raw body>`.

        https://api.slack.com/authentication/verifying-requests-from-slack
        """
        timestamp = str(int(time.time()) - age)
        digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(),
                          hashlib.sha256).hexdigest()
        headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}",
                   "Content-Type": content_type}
        if retry is not None:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return headers

    async def event(self, event: dict[str, Any], *, event_id: str | None = None,
                    status: int = 200, **signing: Any) -> str:
        """Post an `event_callback` envelope; return its event_id."""
        event_id = event_id or f"Ev{next(self._ids):08d}"
        envelope = {"token": "legacy", "team_id": TEAM, "api_app_id": "A0APP",
                    "event": {"team": TEAM, "event_ts": event.get("ts"), **event},
                    "type": "event_callback", "event_id": event_id,
                    "event_time": int(time.time()),
                    "authorizations": [{"enterprise_id": None, "team_id": TEAM,
                                        "user_id": BOT_USER, "is_bot": True,
                                        "is_enterprise_install": False}]}
        body = json.dumps(envelope)
        response = await self.client.post("/slack/events", data=body,
                                          headers=self.headers(body, **signing))
        assert response.status == status, await response.text()
        return event_id

    async def dm(self, text: str, *, user: str = CUSTOMER, channel: str = CUSTOMER_DM,
                 ts: str | None = None, thread_ts: str | None = None, **kwargs: Any) -> str:
        """The customer writes to the app in its DM; return the message's ts."""
        ts = ts or self.next_ts()
        event: dict[str, Any] = {"type": "message", "channel": channel, "user": user,
                                 "text": text, "ts": ts, "channel_type": "im",
                                 "client_msg_id": f"m-{ts}"}
        if thread_ts:
            event["thread_ts"] = thread_ts
        await self.event(event, **kwargs)
        return ts

    async def in_thread(self, channel: str, thread_ts: str, user: str, text: str) -> str:
        ts = self.next_ts()
        await self.event({"type": "message", "channel": channel, "user": user, "text": text,
                          "ts": ts, "thread_ts": thread_ts, "channel_type": "channel"})
        return ts

    async def interaction(self, payload: dict[str, Any], status: int = 200) -> None:
        body = urlencode({"payload": json.dumps(payload)})
        response = await self.client.post(
            "/slack/interactions", data=body,
            headers=self.headers(body, content_type="application/x-www-form-urlencoded"))
        assert response.status == status, await response.text()

    async def press(self, message: dict[str, Any], action_id: str, *, user: str = CUSTOMER,
                    channel: str | None = None, selected: str | None = None) -> None:
        """Click a button (or pick an option) in a message the gateway posted."""
        channel = channel or message["channel"]
        element = next(e for b in message.get("blocks") or [] if b["type"] == "actions"
                       for e in b["elements"] if e["action_id"] == action_id)
        action: dict[str, Any] = {"action_id": action_id, "block_id": "b",
                                  "type": element["type"], "action_ts": self.next_ts()}
        if element["type"] == "button":
            action.update(value=element["value"], text=element["text"])
        else:
            option = next(o for o in element["options"] if o["value"].endswith(f":{selected}"))
            action["selected_option"] = option
        container: dict[str, Any] = {"type": "message", "message_ts": message["ts"],
                                     "channel_id": channel, "is_ephemeral": False}
        if message.get("thread_ts"):
            container["thread_ts"] = message["thread_ts"]
        await self.interaction({
            "type": "block_actions", "team": {"id": TEAM, "domain": "velora"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(),
                     "team_id": TEAM},
            "api_app_id": "A0APP", "token": "legacy", "trigger_id": "1.2.3",
            "container": container, "channel": {"id": channel, "name": "x"},
            "message": {"type": "message", "user": BOT_USER, **message},
            "response_url": "https://hooks.slack.invalid/actions/1", "actions": [action],
        })


@pytest.fixture
async def slack(fake_slack: FakeSlack, aiohttp_client: Callable[..., Any],
                slack_settings: Settings) -> SlackDriver:
    """The whole gateway with the Slack connector on, unpaced (the fake never tires).

    `fake_slack` comes first so that it outlives the gateway (stopped in reverse order).
    """
    from gateway.app import create_app

    app = create_app(slack_settings)
    connector = app[CONNECTORS]["slack"]
    assert isinstance(connector, SlackConnector)
    connector.poster.pacer = Pacer(per_second=0)
    client: TestClient = await aiohttp_client(app)
    return SlackDriver(client, fake_slack)


@pytest.fixture
async def alice(slack: SlackDriver) -> int:
    """An operator whose username is her Slack email address."""
    operator = await slack.store.create_operator(OPERATOR_EMAIL, "Alice Martens",
                                                 hash_password("alice-password-1"), "agent",
                                                 queues=["general", "logistics"])
    return operator.id
