"""SLA breaches are mailed to `[email] escalate_to`, in `[email] escalate_language`."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from gateway.keys import HUB, SETTINGS
from gateway.models import Ticket, utcnow
from gateway.sla.watcher import SlaWatcher
from tests.email_live.conftest import GatewayFactory
from tests.email_live.servers import MailAdmin, SmtpCapture, make_mail


async def _breach_mailed(mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory,
                         to: str, **email: Any) -> tuple[Ticket, EmailMessage]:
    """A hand-off by mail whose SLA the watcher finds breached a month later, and the
    escalation mail it caused."""
    gw = await gateway(mailbox, escalate_to=[to], **email)
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, make_mail(
            sender="ann@customer.test", subject="Help", body="I want to talk to a person"))
    await gw.processed(uid)
    await smtp.wait_for(1)  # the hand-off reply to the customer
    (ticket,) = await gw.store.tickets(("new", "open"))
    settings = gw.app[SETTINGS]
    watcher = SlaWatcher(gw.store, gw.app[HUB], settings.sla, settings.calendar.for_queue)
    await watcher.run_once(utcnow() + timedelta(days=30))
    mails = await smtp.wait_for(2)
    return ticket, next(m for m in mails if m["To"] == to)


async def test_an_sla_breach_is_mailed_to_the_escalation_address(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    ticket, escalation = await _breach_mailed(mailbox, smtp, gateway, "supervisors@velora.be")
    assert escalation["Subject"].startswith(f"[#{ticket.id}] SLA breached:")
    assert escalation["Auto-Submitted"] == "auto-generated"
    assert f"/console/tickets/{ticket.id}" in escalation.get_content()


async def test_the_escalation_mail_is_in_the_supervisors_language(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    ticket, escalation = await _breach_mailed(mailbox, smtp, gateway, "superviseurs@velora.be",
                                              escalate_language="fr")
    assert escalation["Subject"].startswith(f"[#{ticket.id}] SLA dépassé :")
    body = escalation.get_content()
    assert f"Ticket n° {ticket.id} : l'objectif" in body and "superviseurs :" in body
