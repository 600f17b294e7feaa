"""Customers on Slack through the Events API: signed requests only, one reply per message
whatever Slack retries, answers in the thread with buttons, rate limits survived.
"""

from __future__ import annotations

import inspect
import json
import time
from typing import Any

from slack_bolt.middleware.request_verification.async_request_verification import (
    AsyncRequestVerification,
)
from slack_sdk.signature import SignatureVerifier

from connectors.slack.connector import SlackConnector
from gateway.channels import ConversationKey
from gateway.keys import CONNECTORS
from tests.slack.conftest import CUSTOMER, CUSTOMER_DM, CUSTOMER_EMAIL, SlackDriver, eventually
from tests.slack.fake_slack import BOT_ID, BOT_USER, FakeSlack

QUESTION = "How long does delivery take?"


async def customer_posts(fake: FakeSlack, count: int = 1,
                         timeout: float = 5.0) -> list[dict[str, Any]]:
    return await fake.wait_for("chat.postMessage", count, timeout, channel=CUSTOMER_DM)


async def test_url_verification_challenge_is_answered(slack: SlackDriver) -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = json.dumps({"token": "legacy", "challenge": challenge, "type": "url_verification"})
    response = await slack.client.post("/slack/events", data=body, headers=slack.headers(body))
    assert response.status == 200
    assert challenge in await response.text()


async def test_wrongly_signed_event_is_refused_and_not_stored(slack: SlackDriver) -> None:
    await slack.dm(QUESTION, secret="not-the-signing-secret", status=401)
    unsigned = json.dumps({"type": "event_callback", "event": {}})
    response = await slack.client.post("/slack/events", data=unsigned)
    assert response.status == 401
    assert await slack.store.tickets(("new", "open")) == []
    assert slack.fake.called("chat.postMessage") == []


async def test_stale_timestamp_is_refused(slack: SlackDriver) -> None:
    """Replays: a correctly signed request older than five minutes is refused."""
    await slack.dm(QUESTION, age=6 * 60, status=401)
    assert slack.fake.called("users.info") == []


async def test_dm_is_answered_in_its_thread_with_feedback_buttons(slack: SlackDriver) -> None:
    ts = await slack.dm(QUESTION)
    (post,) = await customer_posts(slack.fake)
    assert post["thread_ts"] == ts
    assert "3 to 5 working days" in str(post["text"])
    (message,) = slack.fake.messages(channel=CUSTOMER_DM)
    buttons = [e["action_id"] for b in message["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons == ["helpful", "not_helpful"]
    conversation = await slack.store.conversation_at(
        ConversationKey("slack", f"{CUSTOMER_DM}:{ts}"))
    assert conversation is not None


async def test_retried_and_duplicate_events_never_give_a_second_reply(
        slack: SlackDriver) -> None:
    ts = slack.next_ts()
    event_id = "Ev0RETRY1"
    await slack.dm(QUESTION, ts=ts, event_id=event_id)
    await customer_posts(slack.fake)
    await slack.dm(QUESTION, ts=ts, event_id=event_id, retry=1)
    await slack.dm(QUESTION, ts=ts, event_id=event_id, retry=2)
    await slack.dm(QUESTION, ts=ts, event_id="Ev0OTHERID")  # same message, another event id
    await slack.store.outbox_entries()  # let the outbox tick
    assert len(slack.fake.called("chat.postMessage", channel=CUSTOMER_DM)) == 1
    assert len(await slack.store.outbox_entries()) == 1


async def test_a_retry_that_arrives_first_is_answered(slack: SlackDriver) -> None:
    """Slack's first delivery may be lost: the retry is not dropped for being a retry."""
    await slack.dm(QUESTION, retry=1)
    await customer_posts(slack.fake)


async def test_the_bots_own_and_other_bots_messages_are_ignored(slack: SlackDriver) -> None:
    base = {"type": "message", "channel": CUSTOMER_DM, "channel_type": "im", "text": QUESTION}
    await slack.event({**base, "user": BOT_USER, "bot_id": BOT_ID, "ts": slack.next_ts()})
    await slack.event({**base, "subtype": "bot_message", "bot_id": "B0OTHER",
                       "ts": slack.next_ts()})
    await slack.event({**base, "user": CUSTOMER, "subtype": "message_changed",
                       "ts": slack.next_ts()})
    await slack.event({**base, "user": CUSTOMER, "subtype": "channel_join",
                       "ts": slack.next_ts()})
    assert await slack.store.outbox_entries() == []
    assert slack.fake.called("users.info") == []


async def test_same_person_by_email_and_slack_is_one_customer(
        slack: SlackDriver, api_headers: dict[str, str]) -> None:
    response = await slack.client.post("/api/v1/messages", headers=api_headers, json={
        "customer": {"id": "crm-77", "name": "Ann Peeters", "email": CUSTOMER_EMAIL.upper()},
        "text": QUESTION})
    assert response.status == 201, await response.text()
    by_api = await response.json()
    ts = await slack.dm("Is delivery free?")
    await customer_posts(slack.fake)
    on_slack = await slack.store.conversation_at(ConversationKey("slack", f"{CUSTOMER_DM}:{ts}"))
    by_api_conversation = await slack.store.get_conversation(by_api["conversation_id"])
    assert on_slack is not None and by_api_conversation is not None
    assert on_slack.customer_id == by_api_conversation.customer_id
    # users.info is cached per user: a second message asks Slack nothing new.
    await slack.dm("Do you deliver to Luxembourg?")
    await customer_posts(slack.fake, 2)
    assert len(slack.fake.called("users.info", user=CUSTOMER)) == 1


async def test_rate_limited_reply_is_sent_once_after_retry_after(slack: SlackDriver) -> None:
    slack.fake.rate_limit("chat.postMessage", 1)
    await slack.dm(QUESTION)
    (post,) = await customer_posts(slack.fake, timeout=8)
    (entry,) = await eventually(lambda: slack.store.outbox_entries("sent"))
    assert entry.attempts == 2
    assert len(slack.fake.called("chat.postMessage")) == 1
    assert post["channel"] == CUSTOMER_DM


async def test_clarification_choice_button_sends_its_number(slack: SlackDriver) -> None:
    ts = await slack.dm("delivery of my battery")  # delivery-time or battery-problem?
    await customer_posts(slack.fake)
    (clarify,) = slack.fake.messages(channel=CUSTOMER_DM)
    buttons = [e for b in clarify["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons][:2] == ["choice_1", "choice_2"]
    await slack.press(clarify, "choice_1")
    answer = (await customer_posts(slack.fake, 2))[1]
    assert answer["thread_ts"] == ts
    assert "3 to 5 working days" in str(answer["text"])
    # The pressed row is replaced, so the choice cannot be made twice.
    (update,) = await slack.fake.wait_for("chat.update", ts=clarify["ts"])
    assert not any(b["type"] == "actions" for b in update["blocks"])


async def test_signature_check_is_on_and_compares_in_constant_time(slack: SlackDriver) -> None:
    """bolt verifies; this pins the two properties we rely on, should an upgrade change them."""
    connector = slack.app[CONNECTORS]["slack"]
    assert isinstance(connector, SlackConnector)
    assert any(isinstance(m, AsyncRequestVerification)
               for m in connector.bolt._async_middleware_list)
    source = inspect.getsource(SignatureVerifier.is_valid)
    assert "hmac.compare_digest" in source and "60 * 5" in source
    await slack.dm(QUESTION, age=4 * 60)  # inside the window: accepted
    await customer_posts(slack.fake)


async def test_message_and_reply_are_stored_before_slack_gets_its_ack(
        slack: SlackDriver) -> None:
    started = time.monotonic()
    ts = await slack.dm(QUESTION)
    assert time.monotonic() - started < 3
    stored = await slack.store.find_message("slack", f"{CUSTOMER_DM}:{ts}")
    assert stored is not None and stored.handled
    (entry,) = await slack.store.outbox_entries()
    assert entry.payload["kind"] == "answer"


async def test_a_mention_in_a_channel_is_answered_in_its_thread_and_followups_continue(
        slack: SlackDriver) -> None:
    ts = slack.next_ts()
    mention = {"channel": "C0SHOP", "user": CUSTOMER, "ts": ts,
               "text": f"<@{BOT_USER}> how long does delivery take?"}
    # Slack sends both an app_mention and a message.channels event for one post.
    await slack.event({"type": "app_mention", **mention})
    await slack.event({"type": "message", "channel_type": "channel", **mention})
    (answer,) = await slack.fake.wait_for("chat.postMessage", channel="C0SHOP")
    assert answer["thread_ts"] == ts
    await slack.in_thread("C0SHOP", ts, CUSTOMER, "and to Luxembourg?")
    await slack.fake.wait_for("chat.postMessage", 2, channel="C0SHOP")
    await slack.in_thread("C0SHOP", "1700009999.000100", CUSTOMER, "unrelated thread chatter")
    conversation = await slack.store.conversation_at(ConversationKey("slack", f"C0SHOP:{ts}"))
    assert conversation is not None
    messages = await slack.store.messages(conversation.id)
    assert [m.direction for m in messages] == ["inbound", "outbound", "inbound", "outbound"]
    assert await slack.store.conversation_at(
        ConversationKey("slack", "C0SHOP:1700009999.000100")) is None
