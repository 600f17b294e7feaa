"""One mail in: parse it, thread it, decide whether the bot may answer, hand it on.

Threading (reliability §16, lessons §1-2): our own Message-IDs in References, then
In-Reply-To, then the "[#1234]" ticket tag in the subject, and each only when the sender
is that conversation's customer; otherwise a new conversation keyed by the mail's own
Message-ID. Loops (RFC 3834): machine mail, our own mail and "don't answer me" mail is
stored but never answered, bot replies per correspondent are capped, and a hard bounce
stops all mail to the address. Where the mail came from (IMAP, a quarantine reprocess)
is not this module's business.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Awaitable, Sequence
from typing import Any

import structlog
from aiohttp import web

from connectors.email import state as email_state
from connectors.email.headers import normalise_message_id, raw_header
from connectors.email.mailthread import subject_ticket_ref, thread_candidates
from connectors.email.parse import ParsedMail
from connectors.email.sending import CHANNEL, OWN_ID_PREFIX
from connectors.email.worker import ParseWorker
from gateway.bot.pipeline import Pipeline
from gateway.bot.turn import Outcome
from gateway.channels import ConversationKey, Identity, Inbound, InboundAttachment
from gateway.config.channels import EmailSettings
from gateway.keys import PIPELINE, STORE
from gateway.models import Conversation
from gateway.store import Store
from gateway.store.attachments import save_attachments

log = structlog.get_logger(__name__)

#: Returned-mail parts of a DSN that carry the original headers (RFC 3462, RFC 6522).
_RETURNED_PARTS = {"message/rfc822", "text/rfc822-headers", "message/rfc822-headers"}


class Unprocessable(Exception):
    """A mail the gateway cannot take in as it is; it goes to quarantine."""


class MailIntake:
    """`ingest(raw)`: one raw mail into the pipeline; what happened, as a short word."""

    def __init__(self, app: web.Application, settings: EmailSettings, domain: str,
                 parser: ParseWorker) -> None:
        self.app = app
        self.settings = settings
        self.domain = domain
        self._parser = parser

    @property
    def store(self) -> Store:
        return self.app[STORE]

    @property
    def pipeline(self) -> Pipeline:
        return self.app[PIPELINE]

    async def parse(self, raw: bytes) -> ParsedMail:
        """The mail parsed in the worker process, with its time limit: no mail can stall the
        event loop (the reader parses a batch's next mails this way while one is stored)."""
        return await self._parser.parse(
            raw, max_attachment_bytes=self.settings.max_attachment_bytes)

    async def parse_many(self, raws: Sequence[bytes]) -> list[ParsedMail | Exception]:
        """Several mails parsed in one round trip to the worker (`ParseWorker.parse_many`)."""
        return await self._parser.parse_many(
            raws, max_attachment_bytes=self.settings.max_attachment_bytes)

    async def ingest(self, raw: bytes, parsed: Awaitable[ParsedMail] | None = None) -> str:
        """Take in one raw mail; return what happened. Raises `Unprocessable` for quarantine.

        `parsed`: the mail's parse already under way (`ParseAhead`); else it is parsed here.
        """
        mail = await (parsed if parsed is not None else self.parse(raw))
        if await self._own_copy(mail.message_id):
            return "own-copy"  # a copy of our own reply (Bcc, or a server that files it here)
        if mail.bounce is not None:  # before the sender: "From: MAILER-DAEMON <>" has none
            await self._record_bounce(mail)
            return "bounce"
        if mail.from_address is None:
            raise Unprocessable("no usable From address (missing or ambiguous, CVE-2023-27043)")
        key, threading = await self._thread(mail)
        automated = await self._automated(mail)
        text = mail.new_text.strip() or mail.text.strip()
        meta: dict[str, Any] = {
            "subject": mail.subject,
            "message_id": mail.message_id,
            "in_reply_to": list(mail.in_reply_to),
            "references": list(mail.references),
            "attachments": [{"filename": a.filename, "content_type": a.content_type,
                             "size": a.size, "too_large": a.too_large}
                            for a in mail.attachments],
            **threading,
        }
        if text != mail.text.strip():
            meta["full_text"] = mail.text  # the stripped history stays available
        if mail.defects:
            meta["defects"] = list(mail.defects[:20])
        inbound = Inbound(
            key=key,
            sender=Identity(CHANNEL, mail.from_address, mail.from_name, email=mail.from_address),
            text=text or "(empty message)",
            channel_message_id=mail.message_id,
            attachments=tuple(InboundAttachment(a.filename, a.content_type, a.size, a.too_large)
                              for a in mail.attachments),
            automated=automated,
            meta=meta,
        )
        outcome = await self.pipeline.handle(inbound)
        await self._keep_attachments(mail, outcome, meta["attachments"])
        too_large = [a.filename for a in mail.attachments if a.too_large]
        if too_large and not outcome.duplicate:
            await self.store.add_event(
                "system", "email.attachment_too_large", conversation_id=outcome.conversation_id,
                data={"files": too_large, "limit": self.settings.max_attachment_bytes},
            )
        if outcome.duplicate:
            return "duplicate"
        return f"automated:{automated}" if automated else str(outcome.decision)

    async def _own_copy(self, message_id: str) -> bool:
        """The mail is a copy of one of our own (a Bcc, a server filing our replies here).

        Every mail this connector sends carries a Message-ID of ours (`<hgw.…>`, see
        sending.py), recorded on its message before the send; any other id cannot be an
        outbound message's, so only ours are looked up (issue 21: a statement less per
        mail; a customer's resent mail is recognised by `add_inbound`'s ON CONFLICT)."""
        if not message_id.startswith(OWN_ID_PREFIX):
            return False
        known = await self.store.find_message(CHANNEL, message_id)
        return known is not None and known.direction == "outbound"

    async def _keep_attachments(self, mail: ParsedMail, outcome: Outcome,
                                listed: list[dict[str, Any]]) -> None:
        """Store the files with the message (too-large ones as a row without bytes).

        A new message always. A duplicate only when it is this very mail taken in again
        after a crash or a store error between the pipeline's commit and this call (the
        stored message lists the same attachments and has none saved yet); never a
        stranger's mail reusing the Message-ID. `save_attachments` is all-or-nothing and
        writes nothing for a message that already has its files.
        """
        if not mail.attachments:
            return
        if outcome.duplicate:
            stored = await self.store.find_message(CHANNEL, mail.message_id)
            if (stored is None or stored.id != outcome.message_id
                    or stored.meta.get("attachments") != listed):
                return
        await save_attachments(self.store, outcome.message_id, mail.attachments)

    async def _thread(self, mail: ParsedMail) -> tuple[ConversationKey, dict[str, Any]]:
        """Which conversation the mail joins; only ever one whose customer is the sender."""
        others: list[int] = []
        for message_id in thread_candidates(mail):
            message = await self.store.find_message(CHANNEL, message_id)
            if message is None:
                continue
            conversation = await self.store.get_conversation(message.conversation_id)
            if conversation is None:
                continue
            if await self._is_customer(conversation, mail.from_address):
                return _key(conversation), {"threaded_by": "references"}
            others.append(conversation.id)
        ticket_ref = subject_ticket_ref(mail.subject)
        if ticket_ref is not None:
            ticket = await self.store.get_ticket(ticket_ref)
            conversation = (await self.store.get_conversation(ticket.conversation_id)
                            if ticket else None)
            if conversation is not None and conversation.channel == CHANNEL:
                if await self._is_customer(conversation, mail.from_address):
                    return _key(conversation), {"threaded_by": "subject"}
                others.append(conversation.id)
        # A stranger quoting someone else's thread or "[#123]" opens a new conversation,
        # linked for the operator (zammad#5064, chatwoot#13502).
        extra = {"related_conversations": sorted(set(others))} if others else {}
        return ConversationKey(CHANNEL, mail.message_id), {"threaded_by": "new", **extra}

    async def _is_customer(self, conversation: Conversation, address: str | None) -> bool:
        customer = await self.store.get_customer(conversation.customer_id)
        return bool(customer and customer.email and address and customer.email.lower() == address)

    async def _automated(self, mail: ParsedMail) -> str | None:
        """Why the bot must stay silent on this mail, or None (RFC 3834, reliability §17-19)."""
        if mail.automated:
            return mail.automated
        if mail.from_address == self.settings.address.lower():
            return "own-address"
        if mail.message_id.startswith(OWN_ID_PREFIX) and \
                mail.message_id.endswith(f"@{self.domain}>"):
            return "own-message-id"  # our mail came back without its own copy in the store
        if mail.auto_response_suppress:
            return "auto-response-suppress"
        assert mail.from_address is not None
        if len(await email_state.recent_auto_replies(self.store, mail.from_address)) >= \
                self.settings.auto_replies_per_hour:
            return "auto-reply-limit"
        return None

    async def _record_bounce(self, mail: ParsedMail) -> None:
        """A bounce: an event on the conversation it is about; a hard one stops mail to it."""
        if not await self.store.first_time("email-bounce", mail.message_id):
            return
        bounce = mail.bounce
        assert bounce is not None
        conversation_id = await self._bounced_conversation(mail)
        await self.store.add_event("system", "email.bounce", conversation_id=conversation_id,
                                   data={"recipient": bounce.recipient, "status": bounce.status,
                                         "permanent": bounce.permanent, "hard": bounce.hard,
                                         "reason": bounce.reason})
        # Only a dead address is suppressed; soft bounces pause it when they repeat (§20).
        await email_state.record_bounce(self.store, bounce, conversation_id=conversation_id)
        log.warning("email.bounce", conversation_id=conversation_id, status=bounce.status,
                    permanent=bounce.permanent)

    async def _bounced_conversation(self, mail: ParsedMail) -> int | None:
        """The conversation of the mail that bounced: from the DSN's own threading headers or
        from the Message-ID of the returned original (RFC 3464 §2: it travels with the DSN)."""
        candidates = list(thread_candidates(mail))
        if mail.bounce is not None and mail.bounce.returned_message_id:
            candidates.append(mail.bounce.returned_message_id)  # quoted in a text bounce
        for attachment in mail.attachments:
            if attachment.content_type in _RETURNED_PARTS and attachment.data:
                returned = email.message_from_bytes(attachment.data, policy=email.policy.compat32)
                if returned.get_content_type() == "message/rfc822" and returned.is_multipart():
                    inner = returned.get_payload(0)
                    returned = inner if isinstance(inner, email.message.Message) else returned
                found = normalise_message_id(raw_header(returned, "Message-ID"))
                if found:
                    candidates.append(found)
        for message_id in candidates:
            message = await self.store.find_message(CHANNEL, message_id)
            if message is not None:
                return message.conversation_id
        return None


def _key(conversation: Conversation) -> ConversationKey:
    return ConversationKey(conversation.channel, conversation.address)
