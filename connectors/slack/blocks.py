"""Block Kit layouts for what the gateway posts in Slack: answers with feedback buttons,
clarification choices, operator replies, and the operators' ticket card. Pure functions.

The ticket card speaks the operators' channel language (`[slack] operator_language`): its
texts are the console's msgids (babel.cfg extracts this file into the console's catalogues),
said through the `_` the caller passes (`gateway.console.i18n.translator(...).gettext`);
without one, English.

Limits that shape these functions: a section's text is at most 3,000 characters, a button's
label 75, a message 50 blocks. https://api.slack.com/reference/block-kit/blocks
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from knowledge_base.render import unescape_markdown

Block = dict[str, Any]
#: Says an English msgid in the operators' language.
Say = Callable[[str], str]

SECTION_LIMIT = 3000
BUTTON_LIMIT = 75
MAX_BLOCKS = 50

#: The feedback row under an answer, in the answer's language (English otherwise).
FEEDBACK: dict[str, tuple[str, str, str]] = {
    "en": ("Did this help?", "Yes, thanks", "No, talk to a person"),
    "fr": ("Cela vous a-t-il aidé ?", "Oui, merci", "Non, parler à une personne"),
    "nl": ("Heeft dit geholpen?", "Ja, bedankt", "Nee, met een medewerker praten"),
    "de": ("Hat das geholfen?", "Ja, danke", "Nein, mit einer Person sprechen"),
}

#: Blocks that hold the customer's buttons (removed once one is pressed).
_BUTTON_BLOCKS = frozenset({"feedback_question", "feedback", "choices", "csat_scale", "csat"})
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
#: A link `[text](url)` whose brackets are not escaped (`\\[`: a customer's name, literal).
_LINK = re.compile(r"(?<!\\)\[([^\]]+)(?<!\\)\]\((https?://[^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.MULTILINE)


def escape(text: str) -> str:
    """Slack control sequences (`<!channel>`, `<@U..>`) must not come from customer text.

    https://api.slack.com/reference/surfaces/formatting#escaping
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(markdown: str) -> str:
    """The KB's Markdown (bold, links, headings) as Slack's mrkdwn, other text escaped."""
    text = escape(markdown)
    text = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)
    text = _BOLD.sub(lambda m: f"*{m.group(1) or m.group(2)}*", text)
    return unescape_markdown(_HEADING.sub(lambda m: f"*{m.group(1)}*", text))


def fallback(text: str) -> str:
    """The `text` shown in notifications: escaped, within a section's size."""
    return _clip(escape(text), SECTION_LIMIT)


def sections(markdown: str) -> list[Block]:
    """Text split on paragraph boundaries into sections of at most 3,000 characters."""
    chunks: list[str] = []
    for paragraph in mrkdwn(markdown).split("\n\n"):
        if chunks and len(chunks[-1]) + 2 + len(paragraph) <= SECTION_LIMIT:
            chunks[-1] += "\n\n" + paragraph
        else:
            chunks += [paragraph[i:i + SECTION_LIMIT]
                       for i in range(0, max(len(paragraph), 1), SECTION_LIMIT)]
    return [_section(chunk) for chunk in chunks if chunk.strip()][: MAX_BLOCKS - 2]


def plain(text: str) -> list[Block]:
    return sections(text)


def answer(text: str, language: str | None) -> list[Block]:
    """The KB answer, then "Did this help?" with Yes / No buttons (actions helpful/not_helpful)."""
    question, yes, no = FEEDBACK.get(language or "en", FEEDBACK["en"])
    return [
        *sections(text),
        {"type": "context", "block_id": "feedback_question",
         "elements": [{"type": "plain_text", "text": question}]},
        {"type": "actions", "block_id": "feedback", "elements": [
            _button("helpful", yes, "helpful", style="primary"),
            _button("not_helpful", no, "not_helpful"),
        ]},
    ]


def clarify(text: str, titles: Sequence[str], none_label: str) -> list[Block]:
    """"Do you mean…?" with one button per article; each sends its number, as typed."""
    question = text.splitlines()[0] if text else ""
    labels = [*titles, none_label]
    return [
        _section(escape(question)),
        {"type": "actions", "block_id": "choices", "elements": [
            _button(f"choice_{n}", label, str(n)) for n, label in enumerate(labels, start=1)
        ][:25]},
    ]


def choices(text: str, labels: Sequence[str]) -> list[Block]:
    """A KB action's question with its choices (shops, free slots) as buttons; each sends
    its number, as typed, which the bot reads like a typed answer."""
    return [*sections(text), {"type": "actions", "block_id": "choices", "elements": [
        _button(f"choice_{n}", label, str(n)) for n, label in enumerate(labels, start=1)
    ][:25]}]


def survey(text: str, form: dict[str, Any]) -> list[Block]:
    """The satisfaction question with one button per score (`csat_1`…); each carries the
    survey's signed token, which is what the answer is checked against."""
    scale = int(form.get("scale", 5))
    token = str(form.get("token", ""))
    return [
        _section(escape(text)),
        {"type": "context", "block_id": "csat_scale", "elements": [
            {"type": "plain_text", "text": f"1 = {form.get('low', '')}, {scale} = "
                                           f"{form.get('high', '')}"}]},
        {"type": "actions", "block_id": "csat", "elements": [
            _button(f"csat_{n}", str(n), token) for n in range(1, scale + 1)]},
    ]


def operator_reply(text: str, operator: str) -> list[Block]:
    """An operator's answer, signed so the customer knows a person wrote it."""
    signed = sections(text)
    if operator:
        signed.append({"type": "context",
                       "elements": [{"type": "plain_text", "text": operator}]})
    return signed


def answered(original: Sequence[Block], label: str) -> list[Block]:
    """The message after a button press: buttons replaced by the choice (no double votes)."""
    kept = [b for b in original if b.get("block_id") not in _BUTTON_BLOCKS]
    return [*kept, {"type": "context",
                    "elements": [{"type": "mrkdwn", "text": f"→ *{escape(label)}*"}]}]


def _english(message: str) -> str:
    return message


@dataclass(frozen=True)
class Card:
    """What operators see about a ticket in their channel."""

    ticket_id: int
    subject: str
    status: str
    priority: str
    queue: str
    language: str
    customer: str
    customer_channel: str
    assignee: str
    link: str
    queues: tuple[str, ...]
    #: Wrap-up codes a close needs (TicketService.close); empty = a plain Close button.
    outcomes: tuple[str, ...] = ()
    attempts: list[dict[str, Any]] = field(default_factory=list)
    #: The status and the outcomes as the operators read them (the codes when empty).
    status_label: str = ""
    outcome_labels: tuple[str, ...] = ()


def summary(ticket_id: int, subject: str, _: Say = _english) -> str:
    """The card's notification text."""
    return _("Ticket #%(id)s: %(subject)s") % {"id": ticket_id, "subject": subject}


def ticket_card(card: Card, _: Say = _english) -> list[Block]:
    """Context first (who, what, where), the bot's attempts with scores, then the buttons,
    in the language `_` speaks."""
    assignee = card.assignee or _("nobody")
    ticket = _("Ticket #%(id)s") % {"id": card.ticket_id}
    card_blocks: list[Block] = [
        _section(f"*<{card.link}|{escape(ticket)}>* {escape(card.subject)}"),
        {"type": "section", "fields": [
            _field(_("Customer"), f"{card.customer} ({card.customer_channel})"),
            _field(_("Language"), card.language or "?"),
            _field(_("Priority"), card.priority),
            _field(_("Queue"), card.queue),
            _field(_("Status"), card.status_label or card.status),
            _field(_("Assignee"), assignee),
        ]},
    ]
    tried = attempts_text(card.attempts, _)
    if tried:
        card_blocks.append(_section(tried))
    if card.status != "closed":
        queues = [q for q in card.queues if q != card.queue]
        close: Block = _select("ticket_close", _("Close as…"), card.ticket_id, card.outcomes,
                               card.outcome_labels) \
            if card.outcomes else _button("ticket_close", _("Close ticket"),
                                          str(card.ticket_id), style="danger")
        close["confirm"] = {
            "title": {"type": "plain_text", "text": _("Close this ticket?")},
            "text": {"type": "plain_text", "text": _("The bot answers this customer again.")},
            "confirm": {"type": "plain_text", "text": _("Close ticket")},
            "deny": {"type": "plain_text", "text": _("Cancel")}}
        elements = [_button("ticket_take", _("Take"), str(card.ticket_id), style="primary")]
        if queues:
            elements.append(_select("ticket_transfer", _("Transfer to…"), card.ticket_id,
                                    queues))
        card_blocks.append({"type": "actions", "block_id": f"ticket:{card.ticket_id}",
                            "elements": [*elements, close]})
    card_blocks.append({"type": "context", "elements": [_md(
        _("Messages in this thread are *internal notes*. Start a message with `%(command)s` to"
          " send it to the customer.") % {"command": "!reply "})]})
    return card_blocks


def attempts_text(attempts: Sequence[dict[str, Any]], _: Say = _english) -> str:
    """The hand-off reason and the articles the bot considered, with their confidence."""
    lines: list[str] = []
    handoff, decision = escape(_("Hand-off:")), escape(_("Bot decision:"))
    for attempt in attempts:
        if "reason" in attempt:
            lines.append(f"*{handoff}* {escape(str(attempt['reason']))}")
        if "decision" in attempt:
            lines.append(f"*{decision}* {escape(str(attempt['decision']))} "
                         f"({float(attempt.get('confidence', 0)):.2f})")
        for candidate in list(attempt.get("candidates", []))[:3]:
            lines.append(f"• {escape(str(candidate.get('title', '')))} "
                         f"({float(candidate.get('confidence', 0)):.2f})")
    return _clip("\n".join(lines), SECTION_LIMIT)


def mirror(author: str, text: str, operator: str = "", _: Say = _english) -> str:
    """One conversation message as shown in the ticket's thread (mrkdwn, escaped)."""
    if author == "customer":
        icon, who = ":speech_balloon:", _("Customer")
    elif author == "bot":
        icon, who = ":robot_face:", _("Bot")
    else:
        icon = ":outbox_tray:"
        who = _("Sent to customer by %(name)s") % {"name": operator or _("an operator")}
    who = f"{icon} *{escape(who)}*"
    return _clip(f"{who}\n{escape(text)}", SECTION_LIMIT)


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SECTION_LIMIT)}}


def _md(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _field(name: str, value: str) -> dict[str, str]:
    """One of the card's fields: its name in bold over its value, both escaped."""
    return _md(f"*{escape(name)}*\n{escape(value)}")


def _select(action_id: str, placeholder: str, ticket_id: int,
            choices: Sequence[str], labels: Sequence[str] = ()) -> Block:
    """A static select whose option values carry the ticket: `<ticket id>:<choice>`; each
    option reads its label (the choice itself without one)."""
    shown = [*labels[:len(choices)], *choices[len(labels):]]
    return {"type": "static_select", "action_id": action_id,
            "placeholder": {"type": "plain_text", "text": placeholder},
            "options": [{"text": {"type": "plain_text", "text": _clip(text, BUTTON_LIMIT)},
                         "value": f"{ticket_id}:{c}"}
                        for c, text in zip(choices, shown, strict=True)][:100]}


def _button(action_id: str, label: str, value: str, style: str | None = None) -> Block:
    button: Block = {"type": "button", "action_id": action_id, "value": value,
                     "text": {"type": "plain_text", "text": _clip(label, BUTTON_LIMIT)}}
    if style:
        button["style"] = style
    return button


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
