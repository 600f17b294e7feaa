"""The pure translation layer, without network: Slack events in, Block Kit out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.slack import blocks
from connectors.slack.translate import action_to_inbound, plain_text, to_chat_post, to_inbound
from gateway.channels import ConversationKey, Outbound

BOT = "UBOT"


def dm(**extra: Any) -> dict[str, Any]:
    return {"type": "message", "channel": "D0ANN", "user": "U0ANN", "text": "Is delivery free?",
            "ts": "1700000000.000100", "channel_type": "im", **extra}


def outbound(kind: str, text: str, address: str = "D0ANN:1700000000.000100",
             author: str = "bot", **meta: Any) -> Outbound:
    return Outbound(outbox_id=1, message_id=2, conversation_id=3,
                    key=ConversationKey("slack", address), text=text, author=author, kind=kind,
                    meta=meta)


def test_a_direct_message_starts_a_conversation_keyed_by_its_thread() -> None:
    inbound = to_inbound(dm(), BOT, "Ev1")
    assert inbound is not None
    assert inbound.key == ConversationKey("slack", "D0ANN:1700000000.000100")
    assert inbound.channel_message_id == "D0ANN:1700000000.000100"
    assert inbound.sender.address == "U0ANN"
    assert inbound.text == "Is delivery free?"


def test_a_reply_in_the_thread_belongs_to_the_same_conversation() -> None:
    inbound = to_inbound(dm(ts="1700000009.000100", thread_ts="1700000000.000100"), BOT)
    assert inbound is not None
    assert inbound.key.address == "D0ANN:1700000000.000100"
    assert inbound.channel_message_id == "D0ANN:1700000009.000100"


def test_a_mention_in_a_channel_drops_the_apps_own_mention() -> None:
    event = {"type": "app_mention", "channel": "C0SHOP", "user": "U0ANN",
             "text": "<@UBOT> how long does delivery take?", "ts": "1700000000.000500"}
    inbound = to_inbound(event, BOT)
    assert inbound is not None
    assert inbound.text == "how long does delivery take?"
    assert inbound.meta["slack"]["via"] == "mention"


@pytest.mark.parametrize("event", [
    dm(user=BOT),                                         # the app itself
    dm(bot_id="B0BOT"),                                   # our bot user posting
    dm(subtype="bot_message", bot_id="B0OTHER", user=None),  # another bot
    dm(subtype="message_changed"),                        # an edit
    dm(subtype="message_deleted"),
    dm(subtype="channel_join"),                           # a join
    dm(text="<@UBOT>"),                                   # nothing but the mention
    {"type": "message", "channel": "C0SHOP", "user": "U0ANN", "text": "hi all",
     "ts": "1700000000.000900", "channel_type": "channel"},  # channel chatter, no mention
])
def test_what_the_gateway_must_not_answer(event: dict[str, Any]) -> None:
    assert to_inbound(event, BOT) is None


def test_shared_files_are_recorded_as_attachments() -> None:
    files = [{"name": "invoice.pdf", "mimetype": "application/pdf", "size": 1234}]
    inbound = to_inbound(dm(subtype="file_share", files=files), BOT)
    assert inbound is not None
    assert [(a.filename, a.content_type, a.size) for a in inbound.attachments] == [
        ("invoice.pdf", "application/pdf", 1234)]
    only_file = to_inbound(dm(subtype="file_share", files=files, text=""), BOT)
    assert only_file is not None and only_file.text == "invoice.pdf"


def test_slack_markup_becomes_plain_text() -> None:
    assert plain_text("see <https://velora.be/delivery|our page> &amp; <mailto:a@b.be|a@b.be>"
                      ) == "see our page (https://velora.be/delivery) & a@b.be"
    assert plain_text("&lt;b&gt; <https://velora.be>") == "<b> https://velora.be"


def test_feedback_buttons_become_actions_and_choices_numbers() -> None:
    payload: dict[str, Any] = {
        "type": "block_actions", "user": {"id": "U0ANN", "name": "ann"},
        "container": {"type": "message", "message_ts": "1700000001.000100",
                      "channel_id": "D0ANN", "thread_ts": "1700000000.000100"},
        "message": {"ts": "1700000001.000100", "thread_ts": "1700000000.000100"},
        "actions": [{"action_id": "not_helpful", "value": "not_helpful",
                     "text": {"type": "plain_text", "text": "No, talk to a person"}}]}
    no = action_to_inbound(payload)
    assert no is not None and no.meta["action"] == "not_helpful"
    assert no.key.address == "D0ANN:1700000000.000100"
    payload["actions"] = [{"action_id": "choice_2", "value": "2",
                           "text": {"type": "plain_text", "text": "Battery range"}}]
    choice = action_to_inbound(payload)
    assert choice is not None and choice.text == "2" and "action" not in choice.meta
    assert choice.channel_message_id != no.channel_message_id


def test_an_answer_is_posted_in_the_thread_with_did_this_help_buttons() -> None:
    post = to_chat_post(outbound("answer", "Delivery takes **3 to 5 days**. "
                                 "[Details](https://velora.be/delivery)", language="nl"))
    assert post["channel"] == "D0ANN" and post["thread_ts"] == "1700000000.000100"
    section = post["blocks"][0]["text"]["text"]
    assert "*3 to 5 days*" in section and "<https://velora.be/delivery|Details>" in section
    (actions,) = [b for b in post["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["text"]["text"]) for e in actions["elements"]] == [
        ("helpful", "Ja, bedankt"), ("not_helpful", "Nee, met een medewerker praten")]
    assert post["text"]  # the notification fallback


def test_clarify_choices_are_buttons_sending_their_number() -> None:
    text = "Do you mean:\n1. Delivery time\n2. Late delivery\n3. None of these\nReply..."
    post = to_chat_post(outbound("clarify", text, titles=["Delivery time", "Late delivery"],
                                 none_label="None of these"))
    assert post["blocks"][0]["text"]["text"] == "Do you mean:"
    buttons = post["blocks"][1]["elements"]
    assert [(b["text"]["text"], b["value"]) for b in buttons] == [
        ("Delivery time", "1"), ("Late delivery", "2"), ("None of these", "3")]


def test_customer_text_cannot_ping_the_channel() -> None:
    """`<!channel>` typed by a customer is shown, never executed (Slack escaping rules)."""
    mirrored = blocks.mirror("customer", "<!channel> urgent <@U0BOSS> & co")
    assert "<!channel>" not in mirrored and "&lt;!channel&gt;" in mirrored
    post = to_chat_post(outbound("operator", "1 < 2 <!here>", author="operator",
                                 operator="Alice"))
    assert "<!here>" not in json.dumps(post)
    assert post["blocks"][-1]["elements"][0]["text"] == "Alice"


def test_long_answers_are_split_within_slacks_section_limit() -> None:
    long_text = "\n\n".join("word " * 400 for _ in range(5))
    post = to_chat_post(outbound("notice", long_text))
    assert all(len(b["text"]["text"]) <= blocks.SECTION_LIMIT for b in post["blocks"])
    assert len(post["blocks"]) >= 2


def test_a_pressed_button_row_is_replaced_by_the_choice() -> None:
    answer = blocks.answer("Delivery takes 3 days.", "en")
    after = blocks.answered(answer, "Yes, thanks")
    assert not any(b["type"] == "actions" for b in after)
    assert after[0] == answer[0] and "Yes, thanks" in after[-1]["elements"][0]["text"]


def test_ticket_card_has_context_link_attempts_and_buttons() -> None:
    card = blocks.ticket_card(blocks.Card(
        ticket_id=7, subject="Where is my bike?", status="new", priority="P2",
        queue="logistics", language="nl", customer="Ann <ann@example.com>",
        customer_channel="email", assignee="", link="https://help/console/tickets/7",
        queues=("general", "logistics"), outcomes=("answered", "duplicate"),
        attempts=[{"reason": "no confident answer"},
                  {"decision": "handoff", "confidence": 0.31,
                   "candidates": [{"title": "Late delivery", "confidence": 0.31}]}]))
    text = json.dumps(card)
    for expected in ("https://help/console/tickets/7|Ticket #7", "P2", "logistics", "nl",
                     "ann@example.com", "email", "Late delivery (0.31)", "!reply"):
        assert expected in text, expected
    (actions,) = [b for b in card if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [
        "ticket_take", "ticket_transfer", "ticket_close"]
    transfer = actions["elements"][1]
    assert [o["value"] for o in transfer["options"]] == ["7:general"]
    assert [o["value"] for o in actions["elements"][2]["options"]] == ["7:answered",
                                                                        "7:duplicate"]
