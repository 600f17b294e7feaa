"""The Slack connector: a slack-bolt `AsyncApp` fed by the gateway's aiohttp routes (Events API)
or by a Socket Mode connection, and `send` for replies leaving through the outbox.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any

import structlog
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from connectors.slack.events import SlackEvents, register
from connectors.slack.operators import OperatorDesk
from connectors.slack.translate import (
    CHANNEL,
    NEW_THREAD,
    address,
    message_id,
    split_address,
    to_chat_post,
)
from connectors.slack.uploads import share_files
from connectors.slack.users import Directory
from connectors.slack.webapi import Pacer, SlackPoster
from gateway.background import stop_task
from gateway.channels import Outbound
from gateway.config.settings import Settings
from gateway.delivery.notify import Payload
from gateway.errors import DeliveryError
from gateway.keys import HUB, PIPELINE, STORE, SURVEYS, TELEMETRY, TICKETS
from gateway.store import Store

log = structlog.get_logger(__name__)

#: Slack refuses requests signed more than five minutes ago; bolt checks it, we say why.
#: https://api.slack.com/authentication/verifying-requests-from-slack
SIGNATURE_WINDOW = 300
#: Seconds a Web API call may take (the outbox sends one entry at a time).
API_TIMEOUT = 15
#: Seconds stop() gives post-ack work (notices, message updates) before cancelling it.
STOP_GRACE = 5.0


class SlackConnector:
    channel = CHANNEL
    #: An operator's files go out in the reply's thread (uploads.py).
    sends_files = True

    def __init__(self, app: web.Application, settings: Settings,
                 pacer: Pacer | None = None) -> None:
        slack = settings.slack
        self.web_app = app
        self.mode = slack.mode
        self.app_token = slack.app_token.get_secret_value()
        # The outbox owns retries: the client must not resend a post on its own.
        self.client = AsyncWebClient(token=slack.bot_token.get_secret_value(),
                                     base_url=slack.api_url, timeout=API_TIMEOUT,
                                     retry_handlers=[])
        self.poster = SlackPoster(self.client, pacer, app.get(TELEMETRY))
        directory = Directory(self.client)
        self.desk = OperatorDesk(slack.operators_channel, settings, self.poster, directory) \
            if slack.operators_channel else None
        self.events = SlackEvents(directory, self.poster, self.desk, self.spawn)
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=slack.signing_secret.get_secret_value(),
            # Persist first, then ack (see connectors.slack.events).
            process_before_response=True,
            request_verification_enabled=slack.mode == "http",
            logger=logging.getLogger("connectors.slack.bolt"),
        )
        register(self.bolt, self.events)
        self._tasks: set[asyncio.Task[None]] = set()
        self._desk_task: asyncio.Task[None] | None = None
        self._feed: asyncio.Queue[Payload] | None = None
        self._sla_task: asyncio.Task[None] | None = None
        self._sla_feed: asyncio.Queue[Payload] | None = None
        self._socket: AsyncSocketModeHandler | None = None

    async def start(self) -> None:
        app = self.web_app
        self.events.bind(app[STORE], app[PIPELINE], app[SURVEYS])
        if self.desk is not None:
            self.desk.bind(app[STORE], app[TICKETS])
            self._feed = app[HUB].subscribe("tickets")
            self._desk_task = asyncio.create_task(self.desk.run(self._feed),
                                                  name="slack-operators")
            self._sla_feed = app[HUB].subscribe("notifications")
            self._sla_task = asyncio.create_task(self.desk.follow_sla(self._sla_feed),
                                                 name="slack-sla")
        if self.mode == "socket":
            # Several replicas may each hold a connection: Slack sends each event to one.
            # https://api.slack.com/apis/connections/socket#connections
            self._socket = AsyncSocketModeHandler(self.bolt, self.app_token,
                                                  web_client=self.client)
            await self._socket.connect_async()
        log.info("slack.started", mode=self.mode, operators=self.desk is not None)

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
        for task in (self._desk_task, self._sla_task):
            if task is not None:
                await stop_task(task)
        if self._feed is not None:
            self.web_app[HUB].unsubscribe("tickets", self._feed)
        if self._sla_feed is not None:
            self.web_app[HUB].unsubscribe("notifications", self._sla_feed)
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=STOP_GRACE)
            for task in pending:
                task.cancel()

    async def send(self, outbound: Outbound) -> dict[str, Any] | None:
        """Post in the conversation's thread; the ts identifies the message from then on.
        The reply's files follow in the same thread (`uploads`).

        A conversation the company starts (`first_address`) is posted to the user, which
        Slack delivers in the app's direct messages; its thread is that post from then on.
        A reply with files records its post before uploading them: a resend after a crash
        or a failed upload does not post the text again (`Outbound.progress`). Files
        without text are shared alone (Slack refuses an empty message).
        """
        listed = list(outbound.meta.get("files") or [])
        channel, thread_ts = split_address(outbound.key.address)
        if outbound.progress.get("channel"):  # posted by an earlier attempt
            result = dict(outbound.progress)
        elif listed and thread_ts and not outbound.text.strip():
            result = {"channel": channel}  # files alone: they are the reply
        else:
            post = to_chat_post(outbound)
            posted = await self.poster.post(**post, unfurl_links=False)
            result = {"channel_message_id": message_id(posted["channel"], posted["ts"]),
                      "ts": posted["ts"], "channel": posted["channel"]}
            if "thread_ts" not in post:
                result["address"] = address(posted["channel"], posted["ts"])
            if listed and outbound.record is not None:
                await outbound.record(result)
        if listed:
            result["files"] = await share_files(
                self.poster, self.web_app[STORE], message_id=outbound.message_id,
                listed=listed, channel=str(result["channel"]),
                thread_ts=thread_ts or str(result["ts"]),
                progress=outbound.progress, record=outbound.record or _forget)
            result.pop("completing", None)
        return result

    def first_address(self, identity: str, token: str) -> str:
        return f"{identity}:{NEW_THREAD}{token}"

    async def refusal(self, store: Store, identity: str) -> str | None:
        return None

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        """`POST /slack/events` and `/slack/interactions`: bolt verifies the signature."""
        _warn_on_clock_skew(request)
        response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    def spawn(self, work: Awaitable[Any]) -> None:
        """Run Slack calls that must not delay the ack; stop() waits for them."""
        task = asyncio.create_task(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(work: Awaitable[Any]) -> None:
        try:
            await work
        except (DeliveryError, SlackApiError) as exc:
            log.warning("slack.after_ack_failed", error=str(exc))


async def _forget(facts: dict[str, Any]) -> None:
    """No outbox to record in (a direct send): nothing to remember."""


def _warn_on_clock_skew(request: web.Request) -> None:
    """A skewed clock makes every request stale (401): say so, it is not an attack."""
    raw = request.headers.get("X-Slack-Request-Timestamp", "")
    if raw.isdigit() and abs(time.time() - int(raw)) > SIGNATURE_WINDOW:
        log.warning("slack.stale_request", skew_seconds=round(time.time() - int(raw)))
