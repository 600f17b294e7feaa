"""The operators' channel: one card per new ticket, kept in sync with the console, the
conversation mirrored into the card's thread, and what operators do there.

Thread messages are internal notes unless they start with `!reply ` (chatwoot#15605: chatter
leaked to customers). Every action goes through `TicketService`, so the console and Slack
show the same ticket and write the same events. State kept in the
store (`connector_state`): the card of each ticket and the ticket of each card thread.
The card, its thread's notices and the notices to operators speak the channel's language
(`[slack] operator_language`, else the desk's default), through the console's catalogues
(babel.cfg extracts this file: its texts are marked with `N_` and said with `self.say`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from connectors.slack import blocks
from connectors.slack.translate import is_person_message, plain_text, strip_mentions
from connectors.slack.users import Directory
from connectors.slack.webapi import SlackPoster
from gateway.config.settings import Settings
from gateway.console.i18n import N_, translator
from gateway.console.labels import label
from gateway.errors import AccessDenied, DeliveryError, StoreError
from gateway.ids import parse_id
from gateway.models import OPEN_TICKET_STATUSES, Operator, Ticket
from gateway.store import Store
from gateway.tickets.service import TicketError, TicketService

log = structlog.get_logger(__name__)

REPLY_COMMAND = "!reply"
NOT_OPERATOR = N_("You are not a helpdesk operator: nothing was changed. Ask an admin to"
                  " create an operator whose username is your Slack email address.")
#: The SLA clocks of a notice (`clock`), as the thread names them.
CLOCKS = {"first_response": N_("first response"), "resolution": N_("resolution")}
#: At first post, the thread shows the conversation's last messages, not years of history.
HISTORY = 10
#: Seconds between catch-up passes (tickets whose post failed, missed notifications).
SWEEP_SECONDS = 60.0


def _ticket_key(ticket_id: int) -> str:
    return f"slack:ticket:{ticket_id}"


def _thread_key(channel: str, ts: str) -> str:
    return f"slack:thread:{channel}:{ts}"


class OperatorDesk:
    """Cards out (following ticket changes), operators' thread messages and buttons in."""

    def __init__(self, channel: str, settings: Settings, poster: SlackPoster,
                 directory: Directory) -> None:
        self.channel = channel
        self.settings = settings
        self.poster = poster
        self.directory = directory
        self.queues = tuple(q.name for q in settings.queues)
        self.outcomes = settings.tickets.outcome_codes
        #: Says a console msgid in the operators' channel language.
        self.say = translator(settings.slack.operator_language
                              or settings.languages.default).gettext

    def bind(self, store: Store, tickets: TicketService) -> None:
        """Called at start, once the store is open."""
        self.store, self.tickets = store, tickets

    # -- tickets → channel ---------------------------------------------------------------------

    async def run(self, feed: asyncio.Queue[dict[str, Any]]) -> None:
        """Follow the Hub's "tickets" topic; sweep now and then for anything missed."""
        await self._sweep_logged()
        while True:
            try:
                async with asyncio.timeout(SWEEP_SECONDS):
                    first = await feed.get()
            except TimeoutError:
                await self._sweep_logged()
                continue
            changed = [first]
            while not feed.empty():
                changed.append(feed.get_nowait())
            for ticket_id in dict.fromkeys(int(p["ticket_id"]) for p in changed
                                           if p.get("ticket_id") is not None):
                await self._sync_logged(ticket_id)

    async def sweep(self) -> None:
        """Post open tickets created since Slack was enabled that have no card yet."""
        since = await self.store.get_state("slack:since")
        if since is None:  # first start: existing tickets stay out of the channel
            latest = await self.store.tickets(("new", "open", "pending", "solved", "closed"),
                                              limit=1)
            since = latest[0].id if latest else 0
            await self.store.set_state("slack:since", since)
        for ticket in reversed(await self.store.tickets(OPEN_TICKET_STATUSES)):
            if ticket.id > since:
                await self._sync_logged(ticket.id)

    async def _sweep_logged(self) -> None:
        try:
            await self.sweep()
        except StoreError as exc:  # database down: the next sweep catches up
            log.warning("slack.sweep_failed", error=str(exc))

    async def _sync_logged(self, ticket_id: int) -> None:
        """One ticket's failure never stops the feed: it is retried by its next change or the
        next sweep."""
        try:
            await self.sync(ticket_id)
        except (DeliveryError, StoreError) as exc:
            log.warning("slack.ticket_sync_failed", ticket_id=ticket_id, error=str(exc))
        except Exception:  # a bug must not silence the operators' channel for good
            log.exception("slack.ticket_sync_crashed", ticket_id=ticket_id)

    async def sync(self, ticket_id: int) -> None:
        """Post the card once (claimed in the store, so one replica posts it), else update it
        when it changed; then mirror the conversation's new messages into its thread."""
        ticket = await self.store.get_ticket(ticket_id)
        if ticket is None:
            return
        state: dict[str, Any] = await self.store.get_state(_ticket_key(ticket_id)) or {}
        card = await self._card(ticket)
        digest = hashlib.sha256(json.dumps(card, sort_keys=True).encode()).hexdigest()[:16]
        summary = blocks.summary(ticket.id, ticket.subject, self.say)
        if "ts" not in state:
            if ticket.status == "closed":
                return
            attempt = int(state.get("attempt", 0))
            if not await self.store.first_time("slack-ticket-post", f"{ticket_id}:{attempt}"):
                return
            try:
                posted = await self.poster.post(channel=self.channel, text=blocks.fallback(
                    summary), blocks=card, unfurl_links=False)
            except DeliveryError:
                await self.store.set_state(_ticket_key(ticket_id), {"attempt": attempt + 1})
                raise
            state = {"channel": posted["channel"], "ts": posted["ts"], "card": digest,
                     "last_message_id": None}
            await self.store.set_state(_thread_key(posted["channel"], posted["ts"]), ticket_id)
            await self.store.set_state(_ticket_key(ticket_id), state)
            log.info("slack.ticket_posted", ticket_id=ticket_id)
        elif state.get("card") != digest:
            await self.poster.update(channel=state["channel"], ts=state["ts"],
                                     text=blocks.fallback(summary), blocks=card)
            state["card"] = digest
            await self.store.set_state(_ticket_key(ticket_id), state)
        await self._mirror(ticket, state)

    async def _card(self, ticket: Ticket) -> list[blocks.Block]:
        customer = await self.store.get_customer(ticket.customer_id)
        conversation = await self.store.get_conversation(ticket.conversation_id)
        assignee = await self.store.get_operator(ticket.assignee_id) \
            if ticket.assignee_id is not None else None
        who = (customer.name or customer.email or f"customer {customer.id}") if customer else "?"
        if customer is not None and customer.email and customer.name:
            who = f"{customer.name} <{customer.email}>"
        public = self.settings.server.public_url.rstrip("/")
        return blocks.ticket_card(blocks.Card(
            ticket_id=ticket.id, subject=ticket.subject, status=ticket.status,
            priority=ticket.priority, queue=ticket.queue, language=ticket.language or "",
            customer=who, customer_channel=conversation.channel if conversation else "?",
            assignee=assignee.display_name if assignee else "",
            link=f"{public}/console/tickets/{ticket.id}", queues=self.queues,
            outcomes=self.outcomes,
            attempts=ticket.bot_attempts,
            status_label=label(ticket.status, "status", self.say),
            outcome_labels=tuple(label(c, "outcome", self.say) for c in self.outcomes),
        ), self.say)

    async def _mirror(self, ticket: Ticket, state: dict[str, Any]) -> None:
        """The customer's messages (and what was sent to them) copied into the card's thread."""
        last = state.get("last_message_id")
        messages = await self.store.messages(ticket.conversation_id, after_id=last or 0)
        if not messages:
            return
        shown = messages if last is not None else messages[-HISTORY:]
        for chunk in _chunks([blocks.mirror(m.author, m.text, str(m.meta.get("operator", "")),
                                            self.say) for m in shown]):
            await self.poster.post(channel=state["channel"], thread_ts=state["ts"], text=chunk,
                                   unfurl_links=False)
        state["last_message_id"] = messages[-1].id
        await self.store.set_state(_ticket_key(ticket.id), state)

    async def follow_sla(self, feed: asyncio.Queue[dict[str, Any]]) -> None:
        """SLA warnings and breaches (Hub "notifications") in the ticket's thread; a breach is
        also broadcast to the channel so the queue's supervisors see the escalation."""
        while True:
            note = await feed.get()
            try:
                await self.on_sla(note)
            except (DeliveryError, StoreError) as exc:
                log.warning("slack.sla_notice_failed", ticket_id=note.get("ticket_id"),
                            error=str(exc))

    async def on_sla(self, note: Mapping[str, Any]) -> None:
        if note.get("type") == "csat.bad_score":
            await self._bad_score(note)
            return
        if note.get("type") not in ("sla.warning", "sla.breached"):
            return
        state = await self.store.get_state(_ticket_key(int(note["ticket_id"])))
        if not state or "ts" not in state:
            return
        breached = note["type"] == "sla.breached"
        code = str(note.get("clock", ""))
        clock = self.say(CLOCKS[code]) if code in CLOCKS else code.replace("_", " ")
        said = self.say(N_("SLA breached: %(clock)s due %(due)s UTC (%(priority)s, queue"
                           " %(queue)s). Supervisors: %(supervisors)s.") if breached else
                        N_("SLA warning: %(clock)s due %(due)s UTC (%(priority)s, queue"
                           " %(queue)s). Supervisors: %(supervisors)s.")) % {
            "clock": clock, "due": str(note.get("due", ""))[:16].replace("T", " "),
            "priority": note.get("priority", ""), "queue": note.get("queue", ""),
            "supervisors": ", ".join(note.get("supervisors") or []) or self.say("none")}
        text = f"{':rotating_light:' if breached else ':warning:'} {said}"
        await self.poster.post(channel=state["channel"], thread_ts=state["ts"], text=text,
                               reply_broadcast=breached, unfurl_links=False)

    async def _bad_score(self, note: Mapping[str, Any]) -> None:
        """A bad satisfaction score in the ticket's thread, broadcast to the channel."""
        state = await self.store.get_state(_ticket_key(int(note["ticket_id"])))
        if not state or "ts" not in state:
            return
        comment = str(note.get("comment") or "").strip()
        said = self.say(N_("Bad satisfaction score: %(score)s/5 (queue %(queue)s).")) % {
            "score": note.get("score"), "queue": note.get("queue", "")}
        text = f":thumbsdown: {said}" + (f" “{blocks.escape(comment[:500])}”"
                                         if comment else "")
        await self.poster.post(channel=state["channel"], thread_ts=state["ts"], text=text,
                               reply_broadcast=True, unfurl_links=False)

    # -- channel → tickets ---------------------------------------------------------------------

    async def operator_for(self, slack_user: str) -> Operator | None:
        """The active operator mapped to this Slack user in `[slack] operators`, else the one
        whose username is the Slack user's e-mail address."""
        username = self.settings.slack.operators.get(slack_user)
        if username is None:
            user = await self.directory.lookup(slack_user)
            if not user.email:
                return None
            username = user.email
        operator = await self.store.operator_by_username(username)
        return operator if operator is not None and operator.active else None

    async def on_thread_message(self, event: Mapping[str, Any],
                                bot_user_id: str | None) -> str | None:
        """`!reply …` goes to the customer; anything else is an internal note.

        Returns a notice for the author (shown ephemerally), or None.
        """
        thread_ts, ts = event.get("thread_ts"), event.get("ts")
        if not thread_ts or thread_ts == ts or not is_person_message(event, bot_user_id):
            return None
        ticket_id = await self.store.get_state(_thread_key(self.channel, str(thread_ts)))
        if ticket_id is None:
            return None
        # Keyed by message, not event: an `app_mention` and a `message` event for one post
        # must not make two notes.
        if not await self.store.first_time("slack-ops-message", f"{self.channel}:{ts}"):
            return None
        operator = await self.operator_for(str(event["user"]))
        if operator is None:
            return self.say(NOT_OPERATOR)
        text = plain_text(strip_mentions(str(event.get("text") or ""), bot_user_id))
        try:
            if text.lower().startswith(REPLY_COMMAND):
                body = text[len(REPLY_COMMAND):].strip()
                if not body:
                    return self.say(N_("Nothing sent: write the reply after `%(command)s`.")
                                    ) % {"command": REPLY_COMMAND + " "}
                await self.tickets.reply(operator, int(ticket_id), body)
                log.info("slack.operator_reply", ticket_id=ticket_id, operator=operator.id)
            elif text:
                await self.tickets.note(operator, int(ticket_id), text)
                log.info("slack.operator_note", ticket_id=ticket_id, operator=operator.id)
        except TicketError as exc:
            return self.say(N_("Nothing was recorded: %(reason)s.")) % {
                "reason": self._said(exc)}
        except AccessDenied:
            return self.say(N_("Ticket #%(id)s is outside your queues: nothing was recorded.")
                            ) % {"id": ticket_id}
        return None

    async def on_action(self, body: Mapping[str, Any]) -> str | None:
        """Take, Transfer or Close from the card's buttons; a notice for the presser or None."""
        action = body["actions"][0]
        operator = await self.operator_for(str(body["user"]["id"]))
        if operator is None:
            return self.say(NOT_OPERATOR)
        action_id = action.get("action_id")
        value = str((action.get("selected_option") or {}).get("value") or action.get("value"))
        ticket_part, _, choice = value.partition(":")
        ticket_id = parse_id(ticket_part) or 0
        try:
            if action_id == "ticket_take":
                await self.tickets.take(operator, ticket_id)
            elif action_id == "ticket_close":
                await self.tickets.close(operator, ticket_id, outcome=choice,
                                         summary="closed in Slack")
            elif action_id == "ticket_transfer":
                await self.tickets.transfer(operator, ticket_id, queue=choice,
                                            reason=f"transferred in Slack by "
                                                   f"{operator.display_name}")
        except TicketError as exc:
            return self.say(N_("Nothing was changed: %(reason)s.")) % {"reason": self._said(exc)}
        except AccessDenied:
            return self.say(N_("Ticket #%(id)s is outside your queues: nothing was changed.")
                            ) % {"id": ticket_id}
        except LookupError as exc:
            return self.say(N_("Nothing was changed: %(reason)s.")) % {"reason": str(exc)}
        log.info("slack.operator_action", ticket_id=ticket_id, action=action_id,
                 operator=operator.id)
        return None


    def _said(self, error: TicketError) -> str:
        """The ticket service's refusal in the channel's language."""
        text = self.say(error.message)
        return text % error.params if error.params else text


def _chunks(lines: Sequence[str], limit: int = blocks.SECTION_LIMIT) -> list[str]:
    """Mirrored messages grouped into as few posts as fit (fewer posts, fewer rate limits)."""
    chunks: list[str] = []
    for line in lines:
        if chunks and len(chunks[-1]) + 2 + len(line) <= limit:
            chunks[-1] += "\n\n" + line
        else:
            chunks.append(line)
    return chunks

