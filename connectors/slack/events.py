"""Bolt listeners: Slack events and button presses in, the pipeline or the operators' desk out.

The app runs with `process_before_response=True`: a listener persists (the pipeline's store
is the durable record), then Slack gets its ack, well inside the 3-second limit; replies
leave later through the outbox, and other Slack calls (ephemeral notices, message updates)
run after the ack. https://api.slack.com/apis/connections/events-api#responding
Slack retries an event it thinks failed (`X-Slack-Retry-Num`): a retry is processed like any
delivery and deduplicated on its `event_id` and on the message's channel+ts, never dropped
because it is a retry (the first delivery may never have arrived).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import structlog
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext

from connectors.slack import blocks
from connectors.slack.operators import OperatorDesk
from connectors.slack.translate import CHANNEL, action_to_inbound, address, to_inbound
from connectors.slack.users import Directory
from connectors.slack.webapi import SlackPoster
from gateway.channels import ConversationKey, Identity, Inbound
from gateway.csat.tokens import SurveyError
from gateway.store import Store

if TYPE_CHECKING:  # the pipeline is handed over at start; importing it pulls in the KB
    from gateway.bot.pipeline import Pipeline
    from gateway.csat.service import Surveys

log = structlog.get_logger(__name__)

CUSTOMER_ACTIONS = re.compile(r"^(helpful|not_helpful|choice_\d{1,2})$")
OPERATOR_ACTIONS = re.compile(r"^ticket_(take|transfer|close)$")
SURVEY_ACTIONS = re.compile(r"^csat_([1-5])$")

Spawn = Callable[[Awaitable[Any]], None]


class SlackEvents:
    """What each kind of Slack traffic does; registered on the bolt app by `register`."""

    def __init__(self, directory: Directory, poster: SlackPoster, desk: OperatorDesk | None,
                 spawn: Spawn) -> None:
        self.directory = directory
        self.poster = poster
        self.desk = desk
        self.spawn = spawn

    def bind(self, store: Store, pipeline: Pipeline, surveys: Surveys) -> None:
        """Called at start, once the store is open."""
        self.store, self.pipeline, self.surveys = store, pipeline, surveys

    async def message(self, event: dict[str, Any], body: dict[str, Any],
                      context: AsyncBoltContext) -> None:
        """`message.*` and `app_mention` events."""
        channel = event.get("channel")
        if self.desk is not None and channel == self.desk.channel:
            # The operators' channel never becomes a customer conversation.
            if event.get("type") == "message":
                notice = await self.desk.on_thread_message(event, context.bot_user_id)
                if notice:
                    self._ephemeral(str(channel), event, notice)
            return
        inbound = to_inbound(event, context.bot_user_id, body.get("event_id"))
        if inbound is None:
            return
        if inbound.meta["slack"]["via"] == "thread" and \
                await self.store.conversation_at(inbound.key) is None:
            return  # chatter in some channel thread the bot was never asked into
        await self.ingest(inbound, body.get("event_id"))

    async def ingest(self, inbound: Inbound, event_id: str | None) -> bool:
        """Persist and decide; False when this exact message was already handled."""
        if event_id and not await self.store.first_time("slack-event", event_id):
            seen = await self.store.find_message(CHANNEL, inbound.channel_message_id)
            if seen is not None and seen.handled:
                log.info("slack.duplicate_event", event_id=event_id)
                return False
        user = await self.directory.lookup(inbound.sender.address)
        if user.is_bot:
            return False
        sender = Identity(CHANNEL, user.id, user.name or inbound.sender.name, user.email)
        outcome = await self.pipeline.handle(dataclasses.replace(inbound, sender=sender))
        log.info("slack.ingested", conversation_id=outcome.conversation_id,
                 message_id=outcome.message_id, duplicate=outcome.duplicate,
                 decision=outcome.decision)
        return not outcome.duplicate

    async def customer_action(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Feedback or a clarification choice; the pressed buttons are then replaced."""
        inbound = action_to_inbound(body)
        fresh = inbound is not None and await self.ingest(inbound, None)
        await ack()
        message = body.get("message") or {}
        if fresh and message.get("blocks"):
            label = str((body["actions"][0].get("text") or {}).get("text", ""))
            self.spawn(self.poster.update(
                channel=body["container"]["channel_id"], ts=message["ts"],
                text=message.get("text", ""), blocks=blocks.answered(message["blocks"], label)))

    async def survey_action(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """A score button under the satisfaction question: recorded once, for the survey's
        own customer in its own thread; the buttons then give way to the score."""
        action = body["actions"][0]
        score = int(SURVEY_ACTIONS.match(str(action.get("action_id")))[1])  # type: ignore[index]
        container, user = body.get("container") or {}, (body.get("user") or {}).get("id")
        channel, ts = container.get("channel_id"), container.get("message_ts")
        key = ConversationKey(CHANNEL, address(str(channel), str(container.get("thread_ts")
                                                                  or ts)))
        conversation = await self.store.conversation_at(key)
        text: str | None = None
        if conversation is not None and user and await self.store.customer_of_identity(
                CHANNEL, str(user)) == conversation.customer_id:
            try:
                survey = await self.surveys.answer(str(action.get("value", "")), score,
                                                   conversation_id=conversation.id)
                text = self.surveys.texts("csat_thanks", survey.language)
            except SurveyError as exc:
                text = self.surveys.texts(exc.reason, conversation.language)
        await ack()
        message = body.get("message") or {}
        if text is not None and message.get("blocks"):
            self.spawn(self.poster.update(
                channel=str(channel), ts=str(message["ts"]), text=message.get("text", ""),
                blocks=[*blocks.answered(message["blocks"], str(score)),
                        {"type": "context", "elements": [{"type": "plain_text",
                                                          "text": text}]}]))

    async def operator_action(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Take, Transfer, Close on a ticket card."""
        notice = await self.desk.on_action(body) if self.desk is not None else None
        await ack()
        if notice:
            self._ephemeral(str(body["container"]["channel_id"]), {"user": body["user"]["id"]},
                            notice)

    def _ephemeral(self, channel: str, event: Mapping[str, Any], text: str) -> None:
        """A notice only its addressee sees, after the ack."""
        arguments: dict[str, Any] = {"channel": channel, "user": event["user"], "text": text}
        if event.get("thread_ts"):
            arguments["thread_ts"] = event["thread_ts"]
        self.spawn(self.poster.client.chat_postEphemeral(**arguments))


def register(app: AsyncApp, events: SlackEvents) -> None:
    app.event("message")(events.message)
    app.event("app_mention")(events.message)
    app.action(CUSTOMER_ACTIONS)(events.customer_action)
    app.action(OPERATOR_ACTIONS)(events.operator_action)
    app.action(SURVEY_ACTIONS)(events.survey_action)
