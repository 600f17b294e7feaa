"""Replies out: the reply composed under the customer's newest mail, handed to SMTP.

The Message-ID is fixed per outbox entry and recorded before the send, so a resend after
a crash carries the same id (receivers drop the copy) and a copy of it, or a customer's
answer to it, is recognised even if the process died between the send and marking it
sent. Bot replies are counted per correspondent (the hourly cap of intake.py).
"""

from __future__ import annotations

import hashlib
from typing import Any

import structlog
from aiohttp import web

from connectors.email import state as email_state
from connectors.email.compose import ComposeError, compose_reply
from connectors.email.smtp import SmtpSender
from connectors.email.state import AUTO_REPLIES
from gateway.channels import Outbound
from gateway.config.channels import EmailSettings
from gateway.errors import DeliveryError
from gateway.keys import STORE
from gateway.models import Conversation, Message, utcnow
from gateway.store import Store
from gateway.store.attachments import attachment

log = structlog.get_logger(__name__)

CHANNEL = "email"
#: Our Message-IDs are `<hgw.OUTBOX_ID.DIGEST@domain>` (see `ReplySender._message_id`).
OWN_ID_PREFIX = "<hgw."


class ReplySender:
    """`send(outbound)` for the outbox worker: compose, record the Message-ID, send."""

    def __init__(self, app: web.Application, settings: EmailSettings, smtp: SmtpSender,
                 domain: str) -> None:
        self.app = app
        self.settings = settings
        self.smtp = smtp
        self.domain = domain

    @property
    def store(self) -> Store:
        return self.app[STORE]

    async def send(self, outbound: Outbound) -> dict[str, Any] | None:
        """Compose the reply to the conversation's last mail and hand it to SMTP."""
        # What the send needs, read in three statements (issue 21: it was seven): the
        # conversation with its customer and open ticket, the address's suppression, and
        # the mail the reply threads under.
        context = await self.store.reply_context(outbound.conversation_id)
        if context is None:
            raise DeliveryError(f"conversation {outbound.conversation_id} not found")
        conversation, customer, ticket_id = context
        own = conversation.channel == CHANNEL
        if own:
            recipient = customer.email.lower() if customer and customer.email else None
        else:  # another channel's reply mailed to the address its customer left (follow-up)
            recipient = outbound.key.address.lower()
        if recipient is None:
            raise DeliveryError("the conversation's customer has no mail address")
        suppressed = email_state.suppression_of(
            await self.store.get_states(email_state.suppression_keys(recipient)), recipient)
        if suppressed:
            raise DeliveryError(suppressed)
        parent = _last_inbound(await self.store.latest_inbound(conversation.id)) if own \
            else None
        message_id = self._message_id(outbound, conversation)
        # RFC 3834: a survey is machine-sent too; mark it so that auto-responders keep quiet
        automated = outbound.author == "bot" or outbound.kind == "survey"
        first = parent is None and bool(outbound.meta.get("subject"))
        try:
            message = compose_reply(
                from_address=self.settings.address, from_name=self.settings.display_name,
                to_address=recipient,
                subject=parent.meta.get("subject", "") if parent else
                str(outbound.meta.get("subject", "")),
                markdown_body=survey_body(outbound.text, outbound.meta.get("survey"))
                if outbound.kind == "survey" else outbound.text,
                ticket_ref=ticket_id,
                in_reply_to=parent.channel_message_id if parent else None,
                references=parent.meta.get("references", []) if parent else [],
                message_id=message_id, automated=automated, first=first,
                unsubscribe_url=outbound.meta.get("list_unsubscribe"),
                files=await self._files(outbound),
            )
        except ComposeError as exc:
            raise DeliveryError(f"cannot compose the reply: {exc}") from exc
        # Recorded before the send: a copy of it, or a customer's answer to it, is
        # recognised even if the process dies between the send and marking it sent.
        await self.store.set_message_channel_id(outbound.message_id, message_id)
        result = {"channel_message_id": message_id}

        async def accepted() -> None:
            if outbound.accepted is not None:
                await outbound.accepted(result)

        # Envelope sender = our address, not <> (RFC 3834 §3.3 allows either): bounces of
        # our replies must come back so that hard bounces can suppress the address.
        await self.smtp.send(message, self.settings.address, recipient, accepted)
        if automated:
            stamps = await email_state.recent_auto_replies(self.store, recipient)
            await self.store.set_state(AUTO_REPLIES + recipient,
                                       [*stamps, utcnow().isoformat()])
        log.info("email.sent", outbox_id=outbound.outbox_id,
                 conversation_id=outbound.conversation_id, automated=automated)
        return result

    async def _files(self, outbound: Outbound) -> list[tuple[str, str, bytes]]:
        """The reply's files (stored with it, listed in its payload), to attach."""
        files = []
        for listed in outbound.meta.get("files") or []:
            found = await attachment(self.store, int(listed["id"]))
            if found is None or found.data is None or found.meta.message_id != outbound.message_id:
                raise DeliveryError(f"attachment {listed.get('id')} of the reply is missing")
            files.append((found.meta.filename, found.meta.content_type, found.data))
        return files

    def _message_id(self, outbound: Outbound, conversation: Conversation) -> str:
        """Deterministic per outbox entry: a resend after a crash carries the same id, so the
        recipient's server and mail client can drop the copy. The conversation's creation
        time makes it unique across installations that reuse outbox ids."""
        seed = f"{outbound.outbox_id}|{conversation.id}|{conversation.created_at.isoformat()}"
        digest = hashlib.sha256(seed.encode()).hexdigest()[:20]
        return f"{OWN_ID_PREFIX}{outbound.outbox_id}.{digest}@{self.domain}>"


def survey_body(question: str, form: Any) -> str:
    """The survey as a mail: the question and one link per score, each opening the
    gateway's page with that score chosen (the answer is given there, not by the click)."""
    if not isinstance(form, dict) or not isinstance(form.get("url"), str):
        return question
    url, scale = form["url"], int(form.get("scale", 5))
    lines = [question, ""]
    for score in range(1, scale + 1):
        label = {1: form.get("low"), scale: form.get("high")}.get(score)
        lines.append(f"- {score}{f' ({label})' if label else ''}: <{url}?score={score}>")
    return "\n".join(lines)


def _last_inbound(newest_first: list[Message]) -> Message | None:
    """The newest mail the customer wrote: the reply answers it and continues its thread.

    Auto-replies (out of office, read receipts) are passed over, so the answer does not
    thread under "I am away until Monday"; only when there is nothing else among the
    newest mails (`Store.latest_inbound`) is the newest of them used.
    """
    inbound = [m for m in newest_first if m.direction == "inbound" and m.channel_message_id]
    human = [m for m in inbound if not m.meta.get("automated")]
    return (human or inbound)[0] if inbound else None
