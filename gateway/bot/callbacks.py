"""The bot's call-back rule: "call me tomorrow after 5" (in any of the four languages)
becomes a call-back task with its window on the customer's ticket, confirmed to them.

The window is read off the event loop (gateway/outreach/callback_time.py) with the office
calendar; the task is created once per customer message (`source_message_id`), so a
message decided again after a crash does not plan a second call.
"""

from __future__ import annotations

from gateway.bot.actions import Bot
from gateway.bot.turn import Turn
from gateway.calendar import moment_phrase
from gateway.models import Ticket, utcnow
from gateway.outreach.callback_time import asks_for_call_back, read_window
from gateway.tickets.handoff import open_or_reopen_ticket, subject_from

REASON = "asked to be called back"


async def call_back_request(bot: Bot, turn: Turn) -> bool:
    if turn.inbound.automated or not asks_for_call_back(turn.text):
        return False
    calendar = bot.settings.calendar.calendar()
    window = await read_window(turn.text, turn.language, calendar, utcnow())
    values: dict[str, object] = {
        "when": moment_phrase(calendar, window.start, turn.language),
        "until": window.end.astimezone(calendar.tz).strftime("%H:%M")}
    ticket: Ticket
    if turn.conversation.owner == "bot":
        ticket = await bot.handoff(turn, REASON, "callback_confirm", values=values)
    else:  # people own it: on their ticket, and the customer is told the window at once
        ticket = await open_or_reopen_ticket(
            bot.store, bot.hub, turn.conversation, reason=REASON,
            queue=bot.settings.default_queue, attempts=[], subject=subject_from(turn.text))
        await bot.reply(turn, kind="callback",
                        text=bot.texts("callback_confirm", turn.language, ticket=ticket.id,
                                       **values))
    await bot.store.add_callback(ticket.id, "call_back", window.start, window.end,
                                 phrase=window.phrase, created_by="bot",
                                 source_message_id=turn.outcome.message_id)
    bot.hub.publish(f"ticket:{ticket.id}", {"type": "ticket", "ticket_id": ticket.id})
    turn.outcome.ticket_id = ticket.id
    turn.outcome.decision = "callback"
    return True
