"""The bot's decision, as an ordered list of small rules.

Each rule looks at one thing about the message ("is it an auto-reply?", "is it the answer
to the identity question?") and either decides the turn (stores its replies, sets
`outcome.decision`, returns True) or passes (returns False, stores nothing). The first rule
that decides wins, so the order is the policy: what must never reach the knowledge base
(automated mail, a conversation people own) comes first, then answers to what the bot just
asked, then explicit wishes (a person, small talk), and the knowledge base last. A new
capability is a new rule in `RULES`, with its own tests.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from gateway.bot import lookups
from gateway.bot.actions import Bot, attempts
from gateway.bot.callbacks import call_back_request
from gateway.bot.smalltalk import small_talk
from gateway.bot.turn import Turn
from gateway.directory import credentials
from gateway.models import Message, Ticket
from gateway.tickets.handoff import open_or_reopen_ticket, subject_from
from knowledge_base.message import decide_message
from knowledge_base.signals import asks_for_status, frustration, negative_feedback, wants_human

Rule = Callable[[Bot, Turn], Awaitable[bool]]

#: From this frustration score on, the customer goes to people with an apology.
FRUSTRATED = 0.7


async def automated(bot: Bot, turn: Turn) -> bool:
    """Auto-replies, bounces, list mail: recorded, never answered (no mail loops)."""
    if not turn.inbound.automated:
        return False
    turn.outcome.decision = "ignored"
    await bot.store.add_event("system", "message.automated",
                              conversation_id=turn.conversation.id,
                              data={"reason": turn.inbound.automated})
    return True


async def news_while_people_own_it(bot: Bot, turn: Turn) -> bool:
    """"Any news?" while people own the conversation: on the ticket, and told at once where
    the ticket stands."""
    if turn.conversation.owner == "bot" or not asks_for_status(turn.inbound.text):
        return False
    await bot.report_status(turn, await _on_the_ticket(bot, turn))
    return True


async def people_own_it(bot: Bot, turn: Turn) -> bool:
    """Once people own the conversation the message goes on the ticket and the bot is
    silent, except once while the desk is closed: "your message was added to ticket #n; we
    open on …" (a customer writing again at night is not met with silence)."""
    if turn.conversation.owner == "bot":
        return False
    await bot.acknowledge_out_of_hours(turn, await _on_the_ticket(bot, turn))
    return True


async def _on_the_ticket(bot: Bot, turn: Turn) -> Ticket:
    turn.outcome.decision = "people"
    ticket = await open_or_reopen_ticket(
        bot.store, bot.hub, turn.conversation, reason="customer replied",
        queue=bot.settings.default_queue, attempts=[],
        subject=subject_from(turn.inbound.text), excerpt=subject_from(turn.inbound.text, 120),
    )
    turn.outcome.ticket_id = ticket.id
    return ticket


async def feedback_buttons(bot: Bot, turn: Turn) -> bool:
    """"Did this help?": yes is recorded; no goes to people with an apology."""
    action = turn.inbound.meta.get("action")
    article_id = turn.conversation.last_article_id
    if action == "helpful":
        turn.outcome.decision = "feedback"
        await bot.store.add_event("customer", "answer.helpful",
                                  conversation_id=turn.conversation.id,
                                  data={"article_id": article_id})
        return True
    if action == "not_helpful":
        await bot.handoff(turn, "answer did not help", "handoff_sorry", article_id=article_id)
        return True
    return False


async def clarification_choice(bot: Bot, turn: Turn) -> bool:
    """The customer's pick after "Do you mean…?": that article, or people for "none"."""
    chosen = choice_of(turn.text, await turn.last_bot(bot.store))
    if chosen == "none":
        await bot.handoff(turn, "none of the choices", "handoff")
    elif chosen:
        await bot.serve(turn, chosen, 1.0)
    return chosen is not None


async def verification_answer(bot: Bot, turn: Turn) -> bool:
    """A customer number and postal code typed after the bot asked for them (anything else
    is read as a new question)."""
    asked = await turn.last_bot(bot.store)
    if asked is None or asked.kind != "verify" or bot.directory is None:
        return False
    typed = credentials(turn.text)
    if typed is None:
        return False
    await bot.verify(turn, asked, typed)
    return True


async def answer_did_not_help(bot: Bot, turn: Turn) -> bool:
    """"That didn't help" right after an answer: people take over, with an apology."""
    last = await turn.last_bot(bot.store)
    if last is None or last.kind != "answer" or not negative_feedback(turn.text):
        return False
    await bot.handoff(turn, "answer did not help", "handoff_sorry")
    return True


async def nothing_to_answer(bot: Bot, turn: Turn) -> bool:
    """"???", "👍", "…": nothing to answer or to hand to a person (and a cheap flood)."""
    if turn.inbound.attachments or any(ch.isalnum() for ch in turn.text):
        return False
    return await bot.say(turn, "nothing_to_answer", "ask_what_needed")


async def asks_for_a_person(bot: Bot, turn: Turn) -> bool:
    if not wants_human(turn.text):
        return False
    await bot.handoff(turn, "asked for a human", "handoff_human")
    return True


async def action_answer(bot: Bot, turn: Turn) -> bool:
    """The answer to what an article's action asked: a slot ("your order number?"), the
    confirmation of a booking, or a correction of a lookup's value ("no, it's VEL-20418")
    right after its answer, before that "no" reads as "that didn't help"
    (gateway/bot/lookups.py)."""
    asked = await turn.last_bot(bot.store)
    if asked is not None and asked.kind == "slot":
        return await lookups.slot_reply(bot, turn, asked)
    if asked is not None and asked.kind == "confirm":
        return await lookups.confirm_reply(bot, turn, asked)
    if asked is not None and asked.kind == "answer" and asked.meta.get("action"):
        return await lookups.correction(bot, turn, asked)
    return False


async def greeting_or_thanks(bot: Bot, turn: Turn) -> bool:
    """Hello, thanks, goodbye: answered politely instead of opening a ticket."""
    chat = small_talk(turn.text)
    return chat is not None and await bot.say(turn, "smalltalk", f"smalltalk_{chat}")


async def upset(bot: Bot, turn: Turn) -> bool:
    """An angry customer is not thanked or answered by a bot: people, urgently, with an
    apology (gateway/texts.py), and what the KB would have said for the operator."""
    if frustration(turn.text) < FRUSTRATED:
        return False
    match, decision = turn.match(bot.kb.thresholds)
    await bot.handoff(turn, "customer frustrated", "handoff_upset",
                      attempts(match, decision, turn.kb), urgent=True,
                      article_id=decision.article_id)
    return True


async def several_questions(bot: Bot, turn: Turn) -> bool:
    """Several questions in one message: each one the KB answers gets its answer, in order,
    and the rest goes to a colleague in the same turn (one article alone would leave the
    other question unanswered as if it were). Articles that need a verified identity or a
    person, or that look something up, are not answered this way: the message then goes
    to people whole."""
    message = turn.message(bot.kb.thresholds)
    if not message.parts:
        return False
    verdict = decide_message(message, bot.kb.thresholds)
    articles = turn.kb.articles
    plain = [(question, decision) for question, decision in verdict.answered
             if decision.article_id in articles
             and not (articles[decision.article_id].requires_verification
                      or articles[decision.article_id].handoff
                      or articles[decision.article_id].action is not None)]
    if not plain:
        return False
    for _, decision in plain:
        assert decision.article_id is not None
        await bot.answer(turn, decision.article_id, decision.confidence)
    left = len(message.parts) - len(plain)
    if left:
        match, decision = turn.match(bot.kb.thresholds)
        await bot.handoff(turn, f"{left} of {len(message.parts)} questions not answered",
                          "handoff_rest", attempts(match, decision, turn.kb),
                          article_id=decision.article_id)
    return True


async def knowledge_base(bot: Bot, turn: Turn) -> bool:
    """The article the KB is confident about, a choice when two are close, else people."""
    match, decision = turn.match(bot.kb.thresholds)
    if decision.kind == "answer" and decision.article_id:
        await bot.serve(turn, decision.article_id, decision.confidence,
                        attempts(match, decision, turn.kb))
    elif decision.kind == "clarify":
        await bot.clarify(turn, decision)
    else:
        await bot.handoff(turn, "no confident answer", "handoff",
                          attempts(match, decision, turn.kb), article_id=decision.article_id)
    return True


RULES: tuple[Rule, ...] = (
    automated,
    call_back_request,
    news_while_people_own_it,
    people_own_it,
    feedback_buttons,
    clarification_choice,
    verification_answer,
    action_answer,
    answer_did_not_help,
    nothing_to_answer,
    asks_for_a_person,
    greeting_or_thanks,
    upset,
    several_questions,
    knowledge_base,
)


_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def choice_of(text: str, last_bot: Message | None) -> str | None:
    """The article picked after "Do you mean…?": by number or by title; "none" for none."""
    if last_bot is None or last_bot.kind != "clarify":
        return None
    choices: list[str] = last_bot.meta.get("choices", [])
    titles: list[str] = last_bot.meta.get("titles", [])
    number = _NUMBER.match(text)
    if number:
        index = int(number.group(1)) - 1
        if 0 <= index < len(choices):
            return choices[index]
        return "none" if index == len(choices) else None
    folded = text.strip().casefold()
    for choice, title in zip(choices, titles, strict=False):
        if folded == title.casefold():
            return choice
    return None
