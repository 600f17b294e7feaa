"""The operators' ticket card in the channel's language (`[slack] operator_language`, else
the desk's default), through the fake Slack API: the card's words translated, the values
behind its buttons still codes, so a French card works the ticket like an English one."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from gateway.config.settings import Settings
from tests.slack.conftest import (
    OPERATOR,
    OPS,
    SIGNING_SECRET,
    STRANGER,
    SlackDriver,
    eventually,
)
from tests.slack.fake_slack import FakeSlack
from tests.slack.test_slack_operators import QUESTION, hand_off, thread_text


@pytest.fixture(params=[{"slack": {"operator_language": "fr"}},
                        {"languages": {"default": "fr"}}], ids=["configured", "desk-default"])
def slack_settings(request: pytest.FixtureRequest, make_settings: Callable[..., Settings],
                   fake_slack: FakeSlack) -> Settings:
    extra: dict[str, Any] = request.param
    return make_settings(
        slack={"enabled": True, "api_url": fake_slack.url, "signing_secret": SIGNING_SECRET,
               "bot_token": "xoxb-test", "operators_channel": OPS, **extra.get("slack", {})},
        server={"public_url": "https://help.velora.be"},
        **({"languages": extra["languages"]} if "languages" in extra else {}),
    )


def _elements(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in card["blocks"] if b["type"] == "actions"
            for e in b["elements"]}


async def test_the_card_is_posted_in_french_and_its_buttons_still_work(
        slack: SlackDriver, alice: int) -> None:
    _, card = await hand_off(slack)
    (ticket,) = await slack.store.tickets(("new",))
    assert card["text"].startswith(f"Ticket n° {ticket.id} : ")
    text = json.dumps(card["blocks"], ensure_ascii=False)
    for french in ("*Client*", "*Langue*", "*Priorité*", "*File d'attente*", "*Statut*\\nnouveau",
                   "*Attribué à*\\npersonne", "Clôturer ce ticket ?", "*notes internes*",
                   "Décision du bot :"):
        assert french in text, french
    assert "Customer" not in text and "Take" not in text and "Assignee" not in text
    buttons = _elements(card)
    assert buttons["ticket_take"]["text"]["text"] == "Prendre"
    assert buttons["ticket_transfer"]["placeholder"]["text"] == "Transférer vers…"
    close = buttons["ticket_close"]
    assert close["placeholder"]["text"] == "Clôturer comme…"
    assert {"text": {"type": "plain_text", "text": "répondu"},
            "value": f"{ticket.id}:answered"} in close["options"]

    await slack.press(card, "ticket_take", user=OPERATOR, channel=OPS)
    taken = await slack.store.get_ticket(ticket.id)
    assert taken is not None and taken.assignee_id == alice and taken.status == "open"

    async def updated() -> str:
        calls = slack.fake.called("chat.update", ts=card["ts"])
        shown = json.dumps(calls[-1]["blocks"], ensure_ascii=False) if calls else ""
        return shown if "Alice Martens" in shown else ""

    assert "*Statut*\\nouvert" in await eventually(updated)


async def test_the_thread_and_the_notices_speak_french_too(
        slack: SlackDriver, alice: int) -> None:
    _, card = await hand_off(slack)
    (ticket,) = await slack.store.tickets(("new",))
    thread = await thread_text(slack, card, QUESTION)
    assert f":speech_balloon: *Client*\n{QUESTION}" in thread
    await slack.in_thread(OPS, card["ts"], OPERATOR, "!reply Votre vélo part aujourd'hui.")
    assert ":outbox_tray: *Envoyé au client par Alice Martens*" in await thread_text(
        slack, card, "Envoyé au client")
    await slack.press(card, "ticket_take", user=STRANGER, channel=OPS)
    (notice,) = await slack.fake.wait_for("chat.postEphemeral", user=STRANGER)
    assert notice["text"].startswith("Vous n'êtes pas opérateur du helpdesk : rien n'a été")
    # a refusal of the ticket service, in French too: a reply to a closed ticket
    await slack.press(card, "ticket_close", user=OPERATOR, channel=OPS, selected="answered")
    closed = await slack.store.get_ticket(ticket.id)
    assert closed is not None and closed.status == "closed"
    await slack.in_thread(OPS, card["ts"], OPERATOR, "!reply Encore une chose.")
    (refused,) = await slack.fake.wait_for("chat.postEphemeral", user=OPERATOR)
    assert refused["text"] == (f"Rien n'a été enregistré : le ticket n° {ticket.id} est"
                               " clôturé.")


def test_a_language_without_a_catalogue_is_refused_at_start(
        make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValueError, match="operator_language"):
        make_settings(slack={"operator_language": "it"})
