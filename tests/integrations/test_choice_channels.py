"""An action's choices on each channel: buttons on Slack (each sends its number, which the
bot reads like a typed answer); elsewhere the numbered list in the text (e-mail, API: see
test_booking.py)."""

from __future__ import annotations

from connectors.slack.translate import to_chat_post
from gateway.channels import ConversationKey, Outbound

TEXT = "These test-ride slots are free; reply with a number:\n1. Sat 10:00\n2. Sat 11:00"


def _slot(**meta: object) -> Outbound:
    return Outbound(outbox_id=1, message_id=2, conversation_id=3,
                    key=ConversationKey("slack", "C1:1700000000.000100"), text=TEXT,
                    author="bot", kind="slot", meta=dict(meta))


def test_slack_shows_the_choices_as_buttons_sending_their_number() -> None:
    post = to_chat_post(_slot(choices=["Sat 10:00", "Sat 11:00"]))
    buttons = post["blocks"][-1]["elements"]
    assert [(b["text"]["text"], b["action_id"], b["value"]) for b in buttons] == [
        ("Sat 10:00", "choice_1", "1"), ("Sat 11:00", "choice_2", "2")]
    assert "1. Sat 10:00" in post["text"]  # the numbered list stays for notifications


def test_a_slot_without_choices_is_plain_text_on_slack() -> None:
    post = to_chat_post(_slot(choices=[]))
    assert all(block["type"] != "actions" for block in post["blocks"])
