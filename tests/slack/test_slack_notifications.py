"""A notification by Slack: posted once to the customer (the app's direct messages, fake
Slack Web API), and the customer's answer in its thread joins the same conversation."""

from __future__ import annotations

from typing import Any

from tests.conftest import API_KEY
from tests.slack.conftest import CUSTOMER_DM, CUSTOMER_EMAIL, SlackDriver, eventually

HEADERS = {"Authorization": f"Bearer {API_KEY}"}


async def _notify(slack: SlackDriver, key: str, status: int = 201) -> dict[str, Any]:
    response = await slack.client.post("/api/v1/notifications", headers=HEADERS, json={
        "customer": {"id": "crm-7", "name": "Ann", "email": CUSTOMER_EMAIL},
        "template_id": "ticket-progress", "fields": {"progress": "the part has arrived"},
        "idempotency_key": key})
    assert response.status == status, await response.text()
    return dict(await response.json())


async def test_a_notification_is_posted_once_and_the_thread_reply_comes_back(
        slack: SlackDriver) -> None:
    await slack.dm("hello")  # Ann uses Slack: the channel she used last
    await slack.fake.wait_for("chat.postMessage", 1)
    sent = await _notify(slack, "progress-1")
    assert sent["status"] == "queued" and sent["channel"] == "slack"
    assert await _notify(slack, "progress-1", status=200) == sent

    def posted() -> list[dict[str, Any]]:
        return [m for m in slack.fake.messages() if "the part has arrived" in m["text"]]

    (message,) = await eventually(lambda: _async(posted()))
    assert message["channel"] == CUSTOMER_DM and "thread_ts" not in message
    conversation = await eventually(lambda: slack.store.get_conversation(
        sent["conversation_id"]))
    await eventually(lambda: _moved(slack, sent["conversation_id"], message["ts"]))
    await slack.dm("Great, when can I pick it up?", thread_ts=message["ts"])
    inbound = await eventually(lambda: _inbound(slack, conversation.id))
    assert inbound[-1].text == "Great, when can I pick it up?"
    assert len(posted()) == 1


async def _async(value: Any) -> Any:
    return value


async def _moved(slack: SlackDriver, conversation_id: int, ts: str) -> bool:
    conversation = await slack.store.get_conversation(conversation_id)
    return conversation is not None and conversation.address == f"{CUSTOMER_DM}:{ts}"


async def _inbound(slack: SlackDriver, conversation_id: int) -> list[Any]:
    return [m for m in await slack.store.messages(conversation_id) if m.direction == "inbound"]
