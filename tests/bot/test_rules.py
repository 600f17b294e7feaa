"""Each decision rule on its own, over a real SQLite store and the demo knowledge base: it
decides the messages it is for (and stores what the customer would see) and passes, storing
nothing, on the others. The pipeline tests cover the rules working in order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.app import thresholds_from
from gateway.bot import rules
from gateway.bot.actions import Bot
from gateway.bot.kb_service import KnowledgeService
from gateway.bot.pipeline import Pipeline
from gateway.bot.turn import Outcome, Turn
from gateway.channels import ConversationKey, Identity, Inbound
from gateway.config.settings import Settings
from gateway.delivery.notify import Hub
from gateway.store import Store, store_for
from tests.conftest import ALWAYS_OPEN

DEMO_KB = Path(__file__).resolve().parents[2] / "config" / "kb"


@pytest.fixture
def calendar() -> dict[str, Any]:
    return ALWAYS_OPEN


@pytest.fixture
async def bot(make_settings: Callable[..., Settings], tmp_path: Path,
              calendar: dict[str, Any]) -> AsyncIterator[Bot]:
    settings = make_settings(calendar=calendar)
    store = store_for(f"sqlite:{tmp_path / 'rules.db'}")
    await store.open()
    kb = KnowledgeService(DEMO_KB, thresholds_from(settings))  # type: ignore[arg-type]
    kb.load()
    yield Bot(store, kb, settings, Hub())
    await store.close()


async def _turn(bot: Bot, text: str, *, address: str = "c-1", **inbound: Any) -> Turn:
    """A turn for `text`, stored as the conversation's latest customer message."""
    store: Store = bot.store
    identity = Identity("api", address, "Ann")
    customer = await store.resolve_customer(identity)
    conversation = await store.conversation_for(ConversationKey("api", address), customer.id,
                                                "en")
    conversation = await store.get_conversation(conversation.id) or conversation
    message, _ = await store.add_inbound(conversation, text, f"m-{address}-{text[:20]}", {})
    item = Inbound(ConversationKey("api", address), identity, text, message.channel_message_id
                   or "", **inbound)
    return Turn(item, customer, conversation, Outcome(conversation.id, message.id),
                bot.kb.snapshot, "en")


async def _decided(rule: rules.Rule, bot: Bot, turn: Turn) -> str | None:
    """The decision the rule took, or None when it passed (and then stored no reply)."""
    if await rule(bot, turn):
        return turn.outcome.decision
    assert turn.outcome.replies == [] and turn.outcome.ticket_id is None
    return None


async def test_automated_mail_is_recorded_and_never_answered(bot: Bot) -> None:
    assert await _decided(rules.automated, bot, await _turn(bot, "Out of office",
                                                            automated="auto-reply")) == "ignored"
    assert await _decided(rules.automated, bot, await _turn(bot, "Where is my bike?",
                                                            address="c-2")) is None


async def test_a_conversation_people_own_goes_on_the_ticket_without_a_bot_reply(
        bot: Bot) -> None:
    first = await _turn(bot, "I want to speak to a person")
    assert await _decided(rules.people_own_it, bot, first) is None  # the bot owns it
    assert await _decided(rules.asks_for_a_person, bot, first) == "handoff"
    ticket_id = first.outcome.ticket_id
    later = await _turn(bot, "I also have a second question about my invoice")
    assert await _decided(rules.people_own_it, bot, later) == "people"
    assert later.outcome.ticket_id == ticket_id and later.outcome.replies == []


async def test_any_news_while_people_own_it_says_where_the_ticket_stands(bot: Bot) -> None:
    first = await _turn(bot, "I want to speak to a person")
    await rules.asks_for_a_person(bot, first)
    news = await _turn(bot, "any news?")
    assert await _decided(rules.news_while_people_own_it, bot, await _turn(
        bot, "any news?", address="c-2")) is None  # the bot owns that one
    assert await _decided(rules.news_while_people_own_it, bot, news) == "people"
    assert [r.kind for r in news.outcome.replies] == ["status"]
    assert f"#{first.outcome.ticket_id}" in news.outcome.replies[0].text


@pytest.mark.parametrize("calendar", [ALWAYS_OPEN | {"closed_days": [
    datetime.now(ZoneInfo("Europe/Brussels")).date().isoformat()]}])
async def test_writing_to_people_while_closed_is_acknowledged_once_until_the_desk_opens(
        bot: Bot) -> None:
    first = await _turn(bot, "I want to speak to a person")
    await rules.asks_for_a_person(bot, first)
    later = await _turn(bot, "My battery does not charge any more")
    assert await _decided(rules.people_own_it, bot, later) == "people"
    assert [r.kind for r in later.outcome.replies] == ["after_hours"]
    assert later.outcome.replies[0].text.startswith(
        f"Your message was added to ticket #{first.outcome.ticket_id}. We are closed now; "
        f"we open on ")
    again = await _turn(bot, "It shows a red light")
    assert await _decided(rules.people_own_it, bot, again) == "people"
    assert again.outcome.replies == []  # told already for this night


@pytest.mark.parametrize("calendar", [ALWAYS_OPEN | {"closed_days": [
    datetime.now(ZoneInfo("Europe/Brussels")).date().isoformat()]}])
async def test_no_closed_notice_while_an_operator_is_talking_with_the_customer_late(
        bot: Bot) -> None:
    first = await _turn(bot, "I want to speak to a person")
    await rules.asks_for_a_person(bot, first)
    late = await bot.store.create_operator("alice", "Alice", "hash", "agent", queues=["general"])
    await bot.store.add_reply(first.conversation, author="operator", text="Hi, Alice here.",
                              kind="operator", operator_id=late.id)
    answer = await _turn(bot, "Great, thanks Alice")
    assert await _decided(rules.people_own_it, bot, answer) == "people"
    assert answer.outcome.replies == []


async def test_feedback_buttons(bot: Bot) -> None:
    assert await _decided(rules.feedback_buttons, bot, await _turn(
        bot, "", meta={"action": "helpful"})) == "feedback"
    no = await _turn(bot, "", address="c-2", meta={"action": "not_helpful"})
    assert await _decided(rules.feedback_buttons, bot, no) == "handoff"
    assert no.outcome.ticket_id is not None
    assert await _decided(rules.feedback_buttons, bot, await _turn(
        bot, "thanks", address="c-3")) is None


async def test_a_clarification_choice_serves_that_article_and_none_hands_off(
        bot: Bot) -> None:
    asked = await _turn(bot, "bike")
    await bot.reply(asked, kind="clarify", text="Do you mean…",
                    meta={"choices": ["delivery-time", "warranty"],
                          "titles": ["Delivery time", "Warranty"]})
    picked = await _turn(bot, "2")
    assert await _decided(rules.clarification_choice, bot, picked) == "answer"
    assert picked.outcome.replies[0].meta["article_id"] == "warranty"
    assert rules.choice_of("Delivery time", asked.outcome.replies[0]) == "delivery-time"
    assert rules.choice_of("3", asked.outcome.replies[0]) == "none"
    assert rules.choice_of("7", asked.outcome.replies[0]) is None
    # no question was asked: "2" is just text, for the rules after this one
    assert await _decided(rules.clarification_choice, bot, await _turn(
        bot, "2", address="c-2")) is None


async def test_that_did_not_help_after_an_answer_hands_off_with_an_apology(bot: Bot) -> None:
    asked = await _turn(bot, "How long does delivery take?")
    await bot.answer(asked, "delivery-time", 0.9)
    unhappy = await _turn(bot, "that didn't help at all")
    assert await _decided(rules.answer_did_not_help, bot, unhappy) == "handoff"
    # the same words with no answer before them are not feedback
    assert await _decided(rules.answer_did_not_help, bot, await _turn(
        bot, "that didn't help at all", address="c-2")) is None


async def test_nothing_to_answer_and_small_talk(bot: Bot) -> None:
    assert await _decided(rules.nothing_to_answer, bot, await _turn(bot, "???")) \
        == "nothing_to_answer"
    greeting = await _turn(bot, "hi", address="c-2")
    assert await _decided(rules.nothing_to_answer, bot, greeting) is None
    assert await _decided(rules.greeting_or_thanks, bot, await _turn(bot, "thank you!",
                                                                     address="c-3")) \
        == "smalltalk"
    assert await _decided(rules.greeting_or_thanks, bot, await _turn(
        bot, "thank you, and where is my order?", address="c-4")) is None


async def test_an_upset_customer_goes_to_people_urgently(bot: Bot) -> None:
    angry = await _turn(bot, "This is the THIRD time I write, absolutely unacceptable, "
                             "my bike is still not delivered!!!")
    assert await _decided(rules.upset, bot, angry) == "handoff"
    ticket = await bot.store.get_ticket(angry.outcome.ticket_id or 0)
    assert ticket is not None and ticket.priority in {"P1", "P2"}
    assert await _decided(rules.upset, bot, await _turn(bot, "How long does delivery take?",
                                                        address="c-2")) is None


async def test_the_knowledge_base_rule_always_decides(bot: Bot) -> None:
    known = await _turn(bot, "How long does delivery take?")
    assert await _decided(rules.knowledge_base, bot, known) == "answer"
    assert known.outcome.replies[0].meta["article_id"] == "delivery-time"
    unknown = await _turn(bot, "Can you recommend a good pizza restaurant in Ghent?",
                          address="c-2")
    assert await _decided(rules.knowledge_base, bot, unknown) == "handoff"


async def test_several_questions_get_their_answers_and_the_rest_goes_to_people(
        bot: Bot) -> None:
    both = await _turn(bot, "How long does delivery take and can I pay with Bancontact?")
    assert await _decided(rules.several_questions, bot, both) == "answer"
    assert [r.meta["article_id"] for r in both.outcome.replies] == [
        "delivery-time", "payment-methods"]
    half = await _turn(bot, "How long does delivery take? And can I bring my dog to the shop?",
                       address="c-2")
    assert await _decided(rules.several_questions, bot, half) == "handoff"
    assert [r.kind for r in half.outcome.replies] == ["answer", "handoff"]
    # one question, or several about one article, is the knowledge_base rule's
    assert await _decided(rules.several_questions, bot,
                          await _turn(bot, "How long does delivery take?", address="c-3")) is None


async def test_a_new_capability_is_a_new_rule(bot: Bot, make_settings: Callable[..., Settings]
                                              ) -> None:
    """The pipeline asks its rules in order; one put first decides before the others."""
    async def weather(rule_bot: Bot, turn: Turn) -> bool:
        if "weather" not in turn.text:
            return False
        await rule_bot.reply(turn, kind="smalltalk", text="Sunny in Ghent.")
        turn.outcome.decision = "weather"
        return True

    pipeline = Pipeline(bot.store, bot.kb, make_settings(), Hub())
    pipeline.rules = (weather, *rules.RULES)
    key = ConversationKey("api", "w-1")
    said = await pipeline.handle(Inbound(key, Identity("api", "w-1"), "how is the weather?",
                                         "w-1"))
    assert said.decision == "weather" and said.replies[0].text == "Sunny in Ghent."
    other = await pipeline.handle(Inbound(key, Identity("api", "w-1"),
                                          "How long does delivery take?", "w-2"))
    assert other.decision == "answer"
