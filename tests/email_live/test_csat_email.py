"""The e-mail survey end to end: mail in through Dovecot, the ticket solved, the survey out
through the real SMTP server with one link per score, and the link opened over HTTP: the
page answers once; a used, expired or altered link gets a clear page and changes nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage

import aiohttp
import pytest
from aiohttp import web

from connectors.email.state import SUPPRESSED
from gateway.csat.tokens import sign
from gateway.keys import STORE, TICKETS
from gateway.models import utcnow
from tests.email_live.conftest import Gateway, GatewayFactory
from tests.email_live.servers import MailAdmin, SmtpCapture, make_mail

SECRET = "a-test-csat-secret-of-at-least-32-characters"
PUBLIC = "https://support.velora.test"
SETTINGS = {"csat": {"enabled": True, "delay_minutes": 0, "sweep_interval": 0.1,
                     "secret": SECRET},
            "server": {"public_url": PUBLIC}}
LINK = re.compile(re.escape(PUBLIC) + r"(/surveys/[^\s>?]+)\?score=(\d)")


@pytest.fixture
async def site() -> AsyncIterator[list[str]]:
    """Serve a started gateway over HTTP on a free loopback port (port 0)."""
    bases: list[str] = []
    yield bases


async def serve(gw: Gateway) -> str:
    http = web.TCPSite(gw.runner, "127.0.0.1", 0)
    await http.start()
    host, port = gw.runner.addresses[-1][:2]
    return f"http://{host}:{port}"


async def ask_and_solve(gw: Gateway, smtp: SmtpCapture, mailbox: str, sender: str) -> int:
    """A customer mails, asking for a person; an operator marks the ticket solved."""
    async with MailAdmin() as admin:
        uid = await admin.append(mailbox, make_mail(
            sender=sender, subject="My order", body="I want to talk to a person please"))
    await gw.processed(uid)
    (ticket,) = await gw.store.tickets(("new", "open"))
    admin_op = await gw.store.operator_by_username("admin")
    assert admin_op is not None
    await gw.app[TICKETS].set_status(admin_op, ticket.id, "solved")
    return ticket.id


def survey_mail(messages: list[EmailMessage]) -> EmailMessage:
    (mail,) = [m for m in messages if "/surveys/" in m.get_body(("plain",)).get_content()]
    return mail


async def test_survey_mail_link_answers_once_on_the_gateway_page(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox, settings=SETTINGS)
    base = await serve(gw)
    ticket_id = await ask_and_solve(gw, smtp, mailbox, "Ann <ann@customer.test>")
    await smtp.wait_for(3, timeout=20)  # the hand-off, the "solved" notice, the survey
    mail = survey_mail(smtp.messages)
    assert mail["To"] == "ann@customer.test"
    assert mail["Auto-Submitted"] == "auto-replied"  # RFC 3834: machines, don't answer
    assert f"[#{ticket_id}]" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    links = dict((score, path) for path, score in LINK.findall(text))
    assert sorted(links) == ["1", "2", "3", "4", "5"] and len(set(links.values())) == 1
    html = mail.get_body(("html",)).get_content()
    assert f'href="{PUBLIC}{links["4"]}?score=4"' in html

    async with aiohttp.ClientSession(base) as http:
        # the click opens the page with 4 chosen; nothing is recorded by a GET
        opened = await http.get(f"{links['4']}?score=4")
        page = await opened.text()
        assert opened.status == 200, page
        assert 'value="4" required checked' in page
        assert opened.headers["Referrer-Policy"] == "no-referrer"
        survey = await gw.store.survey_of_ticket(ticket_id)
        assert survey is not None and survey.status == "sent"

        sent = await http.post(links["4"], data={"score": "4", "comment": "Vlot geholpen"})
        assert sent.status == 200 and 'id="survey-thanks"' in await sent.text()
        again = await http.post(links["4"], data={"score": "1", "comment": "changed my mind"})
        assert again.status == 409
        assert "This survey has already been answered" in await again.text()
        reopened = await http.get(f"{links['4']}?score=2")
        assert reopened.status == 409

        survey_id = int(links["4"].rsplit("/", 1)[1].split(".")[0])
        expired = sign(SECRET, survey_id, utcnow() - timedelta(seconds=1))
        late = await http.get(f"/surveys/{expired}?score=5")
        assert late.status == 410 and "This survey link has expired." in await late.text()
        token = links["4"].rsplit("/", 1)[1]
        altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        forged = await http.post(f"/surveys/{altered}", data={"score": "5"})
        assert forged.status == 400 and "This survey link is not valid" in await forged.text()

    answered = await gw.store.survey_of_ticket(ticket_id)
    assert answered is not None and (answered.score, answered.comment) == (4, "Vlot geholpen")


async def test_no_survey_to_a_suppressed_or_a_machine_address(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox, settings=SETTINGS)
    await gw.store.set_state(SUPPRESSED + "bea@customer.test", {"status": "5.1.1",
                                                               "reason": "no such user"})
    bounced = await ask_and_solve(gw, smtp, mailbox, "Bea <bea@customer.test>")

    async def skipped(ticket_id: int) -> bool:
        survey = await gw.store.survey_of_ticket(ticket_id)
        return survey is not None and survey.status == "skipped"

    await gw.wait(lambda: skipped(bounced), timeout=20, what="the survey skipped")
    survey = await gw.app[STORE].survey_of_ticket(bounced)
    assert survey is not None and "hard bounce" in (survey.skip_reason or "")
    for ticket in await gw.store.tickets(("solved",)):
        await gw.store.update_ticket(ticket.id, "test", "ticket.closed", status="closed")
    machine = await ask_and_solve(gw, smtp, mailbox, "Shop <no-reply@shop.test>")
    await gw.wait(lambda: skipped(machine), timeout=20, what="the survey skipped")
    survey = await gw.store.survey_of_ticket(machine)
    assert survey is not None and survey.skip_reason == "a machine's address"
    assert all("/surveys/" not in m.get_body(("plain",)).get_content() for m in smtp.messages)


async def test_a_bad_score_is_mailed_to_the_escalation_address(
        mailbox: str, smtp: SmtpCapture, gateway: GatewayFactory) -> None:
    gw = await gateway(mailbox, settings=SETTINGS, escalate_to=["supervisors@velora.test"])
    base = await serve(gw)
    ticket_id = await ask_and_solve(gw, smtp, mailbox, "Cas <cas@customer.test>")
    await smtp.wait_for(3, timeout=20)
    (path, _), *_ = LINK.findall(survey_mail(smtp.messages).get_body(("plain",)).get_content())
    async with aiohttp.ClientSession(base) as http:
        sent = await http.post(path, data={"score": "1", "comment": "Nobody called back"})
        assert sent.status == 200
    await smtp.wait_for(4, timeout=20)
    (alert,) = [m for m in smtp.messages if m["To"] == "supervisors@velora.test"]
    assert alert["Subject"] == f"[#{ticket_id}] Bad satisfaction score: 1/5 (general)"
    assert alert["Auto-Submitted"] == "auto-generated"
    body = alert.get_body(("plain",)).get_content()
    assert "Nobody called back" in body and f"/console/tickets/{ticket_id}" in body
