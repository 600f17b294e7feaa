"""Operators in Slack: a card per new ticket, the conversation mirrored into its thread,
`!reply` to reach the customer on their own channel, everything else internal.
"""

from __future__ import annotations

import json
from typing import Any

from connectors.slack.operators import NOT_OPERATOR
from gateway.keys import TICKETS
from gateway.models import Event, OutboxEntry
from tests.slack.conftest import (
    CUSTOMER_DM,
    OPERATOR,
    OPS,
    STRANGER,
    SlackDriver,
    eventually,
)

QUESTION = "How long does delivery take?"


async def hand_off(slack: SlackDriver) -> tuple[str, dict[str, Any]]:
    """The customer asks, says the answer did not help: return (their thread, the card)."""
    thread = await slack.dm(QUESTION)
    await slack.fake.wait_for("chat.postMessage", channel=CUSTOMER_DM)
    (answer,) = slack.fake.messages(channel=CUSTOMER_DM)
    await slack.press(answer, "not_helpful")
    await slack.fake.wait_for("chat.postMessage", channel=OPS)
    card = next(m for m in slack.fake.messages(channel=OPS) if "thread_ts" not in m)
    return thread, card


async def thread_text(slack: SlackDriver, card: dict[str, Any], expected: str) -> str:
    """The card's thread as operators see it, once `expected` shows up in it."""

    async def text() -> str:
        found = "\n".join(str(m["text"]) for m in slack.fake.messages(channel=OPS,
                                                                      thread_ts=card["ts"]))
        return found if expected in found else ""

    return str(await eventually(text))


async def test_round_trip_dm_answer_no_button_card_reply_to_customer(
        slack: SlackDriver, alice: int) -> None:
    thread, card = await hand_off(slack)
    # The hand-off told the customer, in their thread.
    handoff = (await slack.fake.wait_for("chat.postMessage", 2, channel=CUSTOMER_DM))[1]
    assert handoff["thread_ts"] == thread and "ticket #" in str(handoff["text"])
    # The card: context, console link, buttons; the conversation so far in its thread.
    (ticket,) = await slack.store.tickets(("new",))
    card_text = json.dumps(card["blocks"])
    assert f"https://help.velora.be/console/tickets/{ticket.id}" in card_text
    assert "Ann Peeters" in card_text and "logistics" in card_text
    assert "answer did not help" in card_text
    assert [e["action_id"] for b in card["blocks"] if b["type"] == "actions"
            for e in b["elements"]] == ["ticket_take", "ticket_transfer", "ticket_close"]
    assert QUESTION in await thread_text(slack, card, QUESTION)

    await slack.in_thread(OPS, card["ts"], OPERATOR, "!reply Your bike leaves our shop today.")
    (sent,) = await slack.fake.wait_for("chat.postMessage", channel=CUSTOMER_DM,
                                        text="Your bike leaves our shop today.")
    assert sent["thread_ts"] == thread
    assert "Alice Martens" in json.dumps(sent["blocks"])  # signed by the operator
    after = await slack.store.get_ticket(ticket.id)
    assert after is not None and after.assignee_id == alice and after.status == "open"
    # The thread shows what was sent, and the card shows who has the ticket.
    mirrored = await thread_text(slack, card, "Sent to customer by Alice Martens")
    assert "Your bike leaves our shop today." in mirrored
    updates = await slack.fake.wait_for("chat.update", ts=card["ts"])
    assert "Alice Martens" in json.dumps(updates[-1]["blocks"])

    # The customer's next message reaches the operators' thread, and the bot stays quiet.
    await slack.dm("Great, which carrier?", thread_ts=thread)
    assert "Great, which carrier?" in await thread_text(slack, card, "which carrier")
    assert len(slack.fake.called("chat.postMessage", channel=CUSTOMER_DM)) == 3


async def test_plain_thread_message_is_an_internal_note(slack: SlackDriver, alice: int) -> None:
    _, card = await hand_off(slack)
    await slack.fake.wait_for("chat.postMessage", 2, channel=CUSTOMER_DM)
    (ticket,) = await slack.store.tickets(("new",))
    await slack.in_thread(OPS, card["ts"], OPERATOR, "Customer called us too, order 1234")


    async def notes() -> list[Event]:
        return [e for e in await slack.store.events(ticket_id=ticket.id)
                if e.type == "ticket.note"]

    (note,) = await eventually(notes)
    assert note.data["text"] == "Customer called us too, order 1234"
    assert note.actor == "alice@velora.be"
    entries = await slack.store.outbox_entries()
    assert all("order 1234" not in e.payload["text"] for e in entries)
    assert len(slack.fake.called("chat.postMessage", channel=CUSTOMER_DM)) == 2


async def test_someone_who_is_not_an_operator_changes_nothing(
        slack: SlackDriver, alice: int) -> None:
    _, card = await hand_off(slack)
    (ticket,) = await slack.store.tickets(("new",))
    await slack.press(card, "ticket_take", user=STRANGER, channel=OPS)
    (notice,) = await slack.fake.wait_for("chat.postEphemeral", user=STRANGER)
    assert notice["text"] == NOT_OPERATOR
    await slack.in_thread(OPS, card["ts"], STRANGER, "!reply hello from a stranger")
    await slack.fake.wait_for("chat.postEphemeral", 2, user=STRANGER)
    unchanged = await slack.store.get_ticket(ticket.id)
    assert unchanged == ticket
    assert all("stranger" not in e.payload["text"] for e in await slack.store.outbox_entries())


async def test_take_transfer_and_close_from_slack_and_console_stay_in_sync(
        slack: SlackDriver, alice: int) -> None:
    _, card = await hand_off(slack)
    (ticket,) = await slack.store.tickets(("new",))
    await slack.press(card, "ticket_take", user=OPERATOR, channel=OPS)
    taken = await slack.store.get_ticket(ticket.id)
    assert taken is not None and taken.assignee_id == alice
    await slack.press(card, "ticket_transfer", user=OPERATOR, channel=OPS, selected="general")
    moved = await slack.store.get_ticket(ticket.id)
    assert moved is not None and moved.queue == "general" and moved.assignee_id is None
    events = [e.type for e in await slack.store.events(ticket_id=ticket.id)]
    assert "ticket.assigned" in events and "ticket.transferred" in events
    # A change made in the console (same TicketService) shows on the card too.
    operator = await slack.store.get_operator(alice)
    assert operator is not None
    await slack.app[TICKETS].take(operator, ticket.id)
    await slack.fake.wait_for("chat.update", ts=card["ts"])
    await slack.press(card, "ticket_close", user=OPERATOR, channel=OPS, selected="answered")
    closed = await slack.store.get_ticket(ticket.id)
    assert closed is not None and closed.status == "closed"


    async def closed_card() -> dict[str, Any] | None:
        last = slack.fake.called("chat.update", ts=card["ts"])[-1]
        return last if "closed" in json.dumps(last["blocks"]) else None

    last = await eventually(closed_card)
    assert not any(b["type"] == "actions" for b in last["blocks"])


async def test_operator_reply_reaches_a_customer_on_another_channel(
        slack: SlackDriver, alice: int, api_headers: dict[str, str]) -> None:
    response = await slack.client.post("/api/v1/messages", headers=api_headers, json={
        "customer": {"id": "crm-9", "name": "Bart Claes", "email": "bart@example.com"},
        "text": "I want to talk to a human please"})
    body = await response.json()
    assert body["ticket_id"] is not None
    await slack.fake.wait_for("chat.postMessage", channel=OPS)
    card = next(m for m in slack.fake.messages(channel=OPS) if "thread_ts" not in m)
    assert "bart@example.com" in json.dumps(card["blocks"])
    await slack.in_thread(OPS, card["ts"], OPERATOR, "!reply Hello Bart, Alice here.")


    async def operator_entries() -> list[OutboxEntry]:
        return [e for e in await slack.store.outbox_entries()
                if e.payload.get("author") == "operator"]

    (entry,) = await eventually(operator_entries)
    assert entry.channel == "api" and entry.payload["text"] == "Hello Bart, Alice here."
    assert slack.fake.called("chat.postMessage", channel=CUSTOMER_DM) == []


async def test_the_operators_channel_never_becomes_a_customer_conversation(
        slack: SlackDriver, alice: int) -> None:
    await slack.event({"type": "app_mention", "channel": OPS, "user": OPERATOR,
                       "text": "<@UBOT> how long does delivery take?", "ts": slack.next_ts()})
    await slack.event({"type": "message", "channel": OPS, "user": OPERATOR,
                       "channel_type": "channel", "text": "lunch?", "ts": slack.next_ts()})
    assert await slack.store.outbox_entries() == []
    assert slack.fake.called("chat.postMessage") == []


async def test_an_sla_breach_is_escalated_in_the_tickets_thread(
        slack: SlackDriver, alice: int) -> None:
    from datetime import timedelta

    from gateway.keys import HUB, SETTINGS
    from gateway.models import utcnow
    from gateway.sla.watcher import SlaWatcher

    _, card = await hand_off(slack)
    settings = slack.app[SETTINGS]
    watcher = SlaWatcher(slack.store, slack.app[HUB], settings.sla, settings.calendar.for_queue)
    await watcher.run_once(utcnow() + timedelta(days=30))
    (notice, *_) = await slack.fake.wait_for("chat.postMessage", channel=OPS,
                                             thread_ts=card["ts"], reply_broadcast=True)
    assert notice["text"].startswith(":rotating_light: SLA breached: first response due")
