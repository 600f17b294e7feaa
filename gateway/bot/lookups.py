"""Carrying out an article's `action:`: fill its slots over as many turns as it takes, ask
the customer before anything is booked, call the back office, answer from its response.

Where the conversation stands lives in the bot's last reply (kind `slot` or `confirm`, its
meta holding the article, the values so far and the failed attempts), like verification
does: nothing to expire, and a message decided again after a crash finds the same state.
A call that fails (timeout, 5xx, circuit open, an answer the article does not expect)
never ends in a promise: the customer is told honestly and a ticket carries the action, its
values and the error. The booking's `Idempotency-Key` comes from the confirmation message,
so a "yes" sent twice, retried or decided again after a crash books once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import structlog
from jinja2 import TemplateError

from gateway.bot.lookup_record import kept, record
from gateway.bot.turn import Turn
from gateway.errors import IntegrationError
from gateway.integrations.client import Call
from gateway.models import Message
from knowledge_base.actions import ActionSpec, SlotSpec, pick_option, render
from knowledge_base.model import Article
from knowledge_base.signals import wants_human

if TYPE_CHECKING:
    from gateway.bot.actions import Bot

log = structlog.get_logger(__name__)

#: Invalid answers to one slot question before people take over.
MAX_SLOT_FAILURES = 2
#: Looked-up choices offered at most (a numbered list must stay readable).
MAX_OPTIONS = 9
_YES = frozenset({"yes", "y", "yeah", "yep", "ok", "okay", "sure", "confirm", "confirmed",
                  "oui", "ouais", "confirme", "confirmer", "ja", "jawel", "graag", "oké",
                  "bevestig", "bevestigen", "jawohl", "genau", "bestätigen", "bestaetigen"})
_NO = frozenset({"no", "n", "nope", "cancel", "non", "annuler", "annule", "nee", "neen",
                 "annuleer", "annuleren", "nein", "abbrechen", "stop"})
_WORD = re.compile(r"[\w']+")
#: A correction is short ("no, it's VEL-20418"); a longer message is a new question.
_MAX_CORRECTION_WORDS = 8


def yes_or_no(text: str) -> bool | None:
    """True for "yes, please" / "oui" / "ja", False for "no" / "annuler"; None otherwise."""
    words = _WORD.findall(text[:200].casefold())
    if not words or len(words) > 6:
        return None
    if words[0] in _YES or " ".join(words[:2]) in {"go ahead", "c'est bon", "doe maar"}:
        return True
    if words[0] in _NO:
        return False
    return None


def pick(texts: Mapping[Any, str], language: str) -> tuple[str, str]:
    """(language used, text): the customer's, else English, else the first one written."""
    for candidate in (language, "en"):
        if candidate in texts:
            return candidate, texts[candidate]
    first = next(iter(texts))
    return first, texts[first]


async def start(bot: Bot, turn: Turn, article: Article, values: Mapping[str, str],
                text: str | None) -> None:
    """Serve an action article: values found in `text` (the question) fill its slots."""
    assert article.action is not None
    found = dict(values)
    if text is not None:
        found |= _found_in(article.action, text, found)
    await _proceed(bot, turn, article, found)


def prefill(article: Article, text: str) -> dict[str, str]:
    """Values of the question kept while the bot first verifies the customer."""
    return _found_in(article.action, text, {}) if article.action is not None else {}


def _found_in(spec: ActionSpec, text: str, known: Mapping[str, str]) -> dict[str, str]:
    return {slot.name: value for slot in spec.slots if slot.name not in known
            and (value := slot.find(text)) is not None}


async def slot_reply(bot: Bot, turn: Turn, asked: Message) -> bool:
    """The customer's answer to "what is your order number?". A request for a person or
    another question the KB answers is no wrong answer: the rules after this one take it."""
    article, spec = _pending(turn, asked)
    slot = spec.slot(str(asked.meta.get("asking"))) if spec is not None else None
    if article is None or spec is None or slot is None:
        return False
    values = dict(asked.meta.get("slots") or {})
    offered = [str(option) for option in asked.meta.get("choices") or []]
    # by number or text among those offered (a button sends the number), else as typed
    value = pick_option(turn.text, offered) if offered else None
    if value is None and slot.options is None:
        value = slot.find(turn.text)
    # a valid value first: "Ghent" is a shop here, not a fuzzy "agent"
    if value is None and (wants_human(turn.text) or _another_question(bot, turn, article.id)):
        return False
    if value is None:
        failures = int(asked.meta.get("failures", 0)) + 1
        if failures >= MAX_SLOT_FAILURES:
            await bot.handoff(turn, f"{article.id}: no valid {slot.name} after {failures}"
                              " attempts", "handoff", article_id=article.id)
        else:
            await _ask(bot, turn, article, values, slot, failures)
        return True
    values[slot.name] = value
    values |= _found_in(spec, turn.text, values)
    await _proceed(bot, turn, article, values)
    return True


async def confirm_reply(bot: Bot, turn: Turn, asked: Message) -> bool:
    """"Yes" books (once, whatever happens next), "no" books nothing; anything else is a
    new question."""
    article, spec = _pending(turn, asked)
    answer = yes_or_no(turn.text)
    if article is None or spec is None or answer is None:
        return False
    values = dict(asked.meta.get("slots") or {})
    if not answer:
        await bot.store.add_event("customer", "action.cancelled",
                                  conversation_id=turn.conversation.id,
                                  data={"article_id": article.id})
        await bot.say(turn, "action_cancelled", "action_cancelled", kind="answer")
        return True
    await _execute(bot, turn, article, values,
                   idempotency_key=f"helpdesk-{turn.conversation.id}-{asked.id}")
    return True


async def correction(bot: Bot, turn: Turn, asked: Message) -> bool:
    """"No, it's VEL-20418" right after a lookup's answer: looked up again with the new
    value. Only lookups: a booking is never changed by a short message."""
    action = asked.meta.get("action") or {}
    article = turn.kb.articles.get(str(action.get("article_id", "")))
    if article is None or article.action is None or article.action.method != "GET" \
            or len(_WORD.findall(turn.text)) > _MAX_CORRECTION_WORDS:
        return False
    values = {str(k): str(v) for k, v in (action.get("slots") or {}).items()}
    changed = {slot.name: value for slot in article.action.slots if slot.options is None
               and (value := slot.find(turn.text)) is not None and value != values.get(slot.name)}
    if not changed:
        return False
    await _proceed(bot, turn, article, values | changed)
    return True


def _another_question(bot: Bot, turn: Turn, article_id: str) -> bool:
    _, decision = turn.match(bot.kb.thresholds)
    return decision.kind == "clarify" or (decision.kind == "answer"
                                          and decision.article_id != article_id)


def _pending(turn: Turn, asked: Message) -> tuple[Article | None, ActionSpec | None]:
    article = turn.kb.articles.get(str(asked.meta.get("article_id", "")))
    return (article, article.action) if article is not None else (None, None)


async def _proceed(bot: Bot, turn: Turn, article: Article, values: dict[str, str]) -> None:
    assert article.action is not None
    spec = article.action
    if turn.conversation.verified_number:
        values["customer_number"] = turn.conversation.verified_number
    missing = next((slot for slot in spec.slots if slot.name not in values), None)
    if missing is not None:
        await _ask(bot, turn, article, values, missing, 0)
    elif spec.method == "POST":
        await _confirm(bot, turn, article, values)
    else:
        await _execute(bot, turn, article, values, idempotency_key=None)


async def _ask(bot: Bot, turn: Turn, article: Article, values: Mapping[str, str],
               slot: SlotSpec, failures: int) -> None:
    language, prompt = pick(slot.prompt, turn.language)
    text = f"{bot.texts('slot_invalid', turn.language)} {prompt}" if failures else prompt
    choices = list(slot.choices)
    if slot.options is not None:
        found = await _options(bot, turn, article, values, slot)
        if found is None:
            return
        choices = found
        text += "\n" + "\n".join(f"{n}. {option}" for n, option in enumerate(found, 1))
    await bot.reply(turn, kind="slot", text=text,
                    meta={"article_id": article.id, "asking": slot.name, "failures": failures,
                          "slots": kept(values), "language": language, "choices": choices,
                          "offered": slot.options is not None})
    turn.outcome.decision = "slot"


async def _options(bot: Bot, turn: Turn, article: Article, values: Mapping[str, str],
                   slot: SlotSpec) -> list[str] | None:
    """The choices the back office offers now (free slots): None when it said none or
    could not be asked (the customer is then told and handed off)."""
    assert article.action is not None and slot.options is not None
    if bot.integrations is None:
        await _failed(bot, turn, article, values, "no integrations configured")
        return None
    lookup = slot.options
    try:
        response = await bot.integrations.call(article.action.integration, Call(
            "GET", lookup.path, {**values, "language": turn.language}, lookup.query))
    except IntegrationError as exc:
        await _failed(bot, turn, article, values, str(exc))
        return None
    data = response.data.get(lookup.field) if isinstance(response.data, Mapping) else None
    found = [str(item) for item in data[:MAX_OPTIONS]] if isinstance(data, list) and \
        200 <= response.status < 300 else []
    if not found:
        await bot.handoff(turn, f"{article.id}: no {slot.name} available (HTTP "
                          f"{response.status})", "options_none",
                          [{"decision": "nothing available",
                            **_record(bot, article, values, f"HTTP {response.status}")}],
                          article_id=article.id)
        return None
    return found


async def _confirm(bot: Bot, turn: Turn, article: Article, values: dict[str, str]) -> None:
    assert article.action is not None
    _, template = pick(article.action.confirm, turn.language)
    try:
        summary = render(template, _context(bot, turn, values, None, None))
    except TemplateError as exc:
        await _failed(bot, turn, article, values, f"confirmation cannot be written: {exc}")
        return
    await bot.reply(turn, kind="confirm",
                    text=f"{summary}\n\n{bot.texts('confirm_hint', turn.language)}",
                    meta={"article_id": article.id, "slots": kept(values)})
    turn.outcome.decision = "confirm"


async def _execute(bot: Bot, turn: Turn, article: Article, values: dict[str, str],
                   idempotency_key: str | None) -> None:
    assert article.action is not None
    spec = article.action
    if bot.integrations is None:
        await _failed(bot, turn, article, values, "no integrations configured")
        return
    call = Call(spec.method, spec.path, {**values, "language": turn.language}, spec.query,
                spec.body if spec.method == "POST" else None, idempotency_key)
    try:
        response = await bot.integrations.call(spec.integration, call)
    except IntegrationError as exc:
        await _failed(bot, turn, article, values, str(exc))
        return
    outcome = spec.outcome(response.status, response.data)
    if outcome is None:
        await _failed(bot, turn, article, values,
                      f"{spec.integration}: HTTP {response.status} is no outcome of the article")
        return
    language, template = pick(outcome.answer, turn.language)
    try:
        text = render(template, _context(bot, turn, values, response.data, response.status))
    except TemplateError as exc:  # a field the response lacks: people, not an empty sentence
        await _failed(bot, turn, article, values, f"answer cannot be written: {exc}")
        return
    looked_up = _record(bot, article, values, f"HTTP {response.status}", response.data)
    await bot.store.add_event("bot", "action.called", conversation_id=turn.conversation.id,
                              data={"article_id": article.id, "integration": spec.integration,
                                    "status": response.status, "attempts": response.attempts})
    await bot.reply(turn, kind="answer", text=text,
                    meta={"article_id": article.id, "confidence": 1.0, "language": language,
                          "title": article.translation(language)[1].title,
                          "action": looked_up["action"]})
    await bot.store.update_conversation(turn.conversation.id, last_article_id=article.id,
                                        category=article.category)
    turn.outcome.decision = "answer"
    if outcome.handoff:
        await bot.handoff(turn, f"{article.id}: {outcome.field or 'status'} needs a person",
                          "handoff", [{"decision": "action answered", **looked_up}],
                          article_id=article.id)


async def _failed(bot: Bot, turn: Turn, article: Article, values: Mapping[str, str],
                  error: str) -> None:
    """An honest "I could not check this" and a ticket saying what was tried and why not."""
    log.warning("action.failed", article_id=article.id, conversation_id=turn.conversation.id,
                error=error)
    await bot.store.add_event("bot", "action.failed", conversation_id=turn.conversation.id,
                              data={"article_id": article.id, "error": error})
    await bot.handoff(turn, f"lookup failed: {error}", "action_failed",
                      [{"decision": "action failed", **_record(bot, article, values, error)}],
                      article_id=article.id)


def _record(bot: Bot, article: Article, values: Mapping[str, str], result: str,
            data: Any = None) -> dict[str, Any]:
    """What the ticket shows of a call, personal fields masked (lookup_record.py)."""
    assert article.action is not None
    settings = bot.settings.integrations.get(article.action.integration)
    return record(article, values, result, settings.mask if settings else (), data)


def _context(bot: Bot, turn: Turn, values: Mapping[str, str], data: Any,
             status: int | None) -> dict[str, Any]:
    customer = turn.customer
    company = bot.settings.company
    return {"response": data if data is not None else {}, "status": status,
            "slots": {**values, "language": turn.language},
            "customer": {"name": customer.name or "", "number": customer.number or ""},
            "company": {"name": company.name, "email": company.email, "phone": company.phone}}
