"""What a hand-off tells the operator: a subject that says what the customer wants, and the
answer the bot gave before the customer asked for people.

The customer's last message is a poor subject: it is often "that didn't help", or a
verification answer (a customer number and postal code, which then sat in every list). The
subject is the first substantive customer message of this hand-off, never one that answered
a verification question; else the matched article's title.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.bot.smalltalk import small_talk
from gateway.directory import credentials
from gateway.models import Message
from knowledge_base.signals import MAX_SIGNAL_CHARS, negative_feedback, wants_human

#: Fewer letters than this ("2", "ok", "?") say nothing about what the customer wants.
_MIN_LETTERS = 3


def episode(messages: Sequence[Message]) -> list[Message]:
    """The messages since people last had the conversation (an operator's or the system's
    message, or the bot's previous hand-off): what this hand-off is about."""
    start = 0
    for index, message in enumerate(messages):
        if message.direction == "outbound" and (message.author != "bot"
                                                or message.kind == "handoff"):
            start = index + 1
    return list(messages[start:])


def _substantive(text: str) -> bool:
    text = text[:MAX_SIGNAL_CHARS]  # the signals read a bounded prefix of long e-mails
    return (sum(ch.isalpha() for ch in text) >= _MIN_LETTERS and credentials(text) is None
            and not negative_feedback(text) and small_talk(text) is None)


def subject_text(messages: Sequence[Message], article_title: str | None) -> str:
    """The customer's first substantive message of the hand-off (a bare "I want a human"
    only when nothing better is there), else the article's title, else ""."""
    candidates: list[str] = []
    previous: Message | None = None
    for message in episode(messages):
        answers_verification = previous is not None and previous.kind == "verify"
        if message.direction == "inbound" and not answers_verification \
                and _substantive(message.text):
            candidates.append(message.text)
        if message.direction == "outbound":
            previous = message
        elif message.direction == "inbound":
            previous = None
    specific = [text for text in candidates if not wants_human(text)]
    if specific:
        return specific[0]
    if article_title:
        return article_title
    return candidates[0] if candidates else ""


def last_answer(messages: Sequence[Message]) -> dict[str, Any] | None:
    """The bot's last knowledge-base answer of the hand-off, as a `bot_attempts` entry, so
    the ticket still shows which article the customer got and how sure the bot was."""
    answers = [m for m in episode(messages) if m.author == "bot" and m.kind == "answer"]
    if not answers:
        return None
    meta = answers[-1].meta
    article_id = str(meta.get("article_id") or "")
    attempt: dict[str, Any] = {
        "decision": "answer given",
        "language": meta.get("language"),
        "candidates": [{"article_id": article_id, "title": meta.get("title") or article_id,
                        "confidence": meta.get("confidence")}],
    }
    if isinstance(meta.get("confidence"), int | float):
        attempt["confidence"] = meta["confidence"]
    return attempt
