"""Automated-mail detection (RFC 3834 §2) and DSN reading (RFC 3464)."""

from __future__ import annotations

import email
import email.policy
import json
from email.message import Message

import pytest

from connectors.email.automated import automated_reason
from connectors.email.bounce import Bounce, read_bounce
from connectors.email.parse import parse_message


def message(headers: str, body: str = "hi\n") -> Message:
    return email.message_from_string(f"{headers.strip()}\n\n{body}", policy=email.policy.default)


def parse_bounce(msg: Message) -> Bounce | None:
    return read_bounce(msg, "", None)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-replied", "auto-submitted"),
        ("Auto-Submitted: auto-generated; owner-email=x@example.org", "auto-submitted"),
        ("Precedence: bulk", "precedence"),
        ("Precedence: junk", "precedence"),
        ("Precedence: list", "precedence"),
        ("X-Autoreply: yes", "autoreply"),
        ("X-Autorespond: vacation", "autoreply"),
        ("X-Loop: helpdesk@example.org", "loop"),
        ("List-Id: <dev.lists.example>", "list"),
        ("List-Unsubscribe: <mailto:leave@lists.example>", "list"),
        ("Return-Path: <>", "null-sender"),
        ("Content-Type: multipart/report; report-type=delivery-status; boundary=b", "bounce"),
        ("Content-Type: multipart/report; report-type=disposition-notification; boundary=b",
         "receipt"),
    ],
)  # fmt: skip
def test_automated_signals(headers: str, reason: str) -> None:
    msg = message(f"From: x@example.org\n{headers}")
    assert automated_reason(msg, "x@example.org", read_bounce(msg, "", "x@example.org")) == reason


def test_mail_from_a_daemon_without_a_bounce_in_it_is_automated_but_not_a_bounce() -> None:
    msg = message("From: MAILER-DAEMON@mx.example.org\nSubject: Your mailbox settings")
    assert read_bounce(msg, "Settings changed.", "mailer-daemon@mx.example.org") is None
    assert automated_reason(msg, "mailer-daemon@mx.example.org") == "daemon"


def test_a_human_writing_from_postmaster_is_neither_a_bounce_nor_automated() -> None:
    mail = parse_message(b"From: Postmaster <postmaster@example.org>\r\nTo: s@example.com\r\n"
                         b"Subject: Question about your SPF record\r\n\r\n"
                         b"Hi, could you check why our mail to you is slow?\r\n")
    assert mail.bounce is None and mail.automated is None


def test_human_mail_and_auto_submitted_no_are_not_automated() -> None:
    assert (
        automated_reason(message("From: a@example.org\nAuto-Submitted: no"), "a@example.org")
        is None
    )
    assert (
        automated_reason(message("From: a@example.org\nPrecedence: normal"), "a@example.org")
        is None
    )


def test_bounce_without_status_block_still_reports_a_bounce() -> None:
    msg = message(
        "From: MAILER-DAEMON@example.org\nContent-Type: multipart/report; "
        "report-type=delivery-status; boundary=b",
        "--b\nContent-Type: text/plain\n\nfailed\n--b\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: rfc822; gone@example.net\nAction: delayed\nStatus: 4.4.1\n\n"
        "Final-Recipient: rfc822;<dead@example.net>\nAction: failed\nStatus: 5.1.1 (unknown)\n"
        "\n--b--\n",
    )
    bounce = parse_bounce(msg)
    assert bounce is not None
    assert (bounce.recipient, bounce.status, bounce.permanent) == (
        "dead@example.net",
        "5.1.1",
        True,
    )


def test_temporary_failure_is_not_permanent() -> None:
    msg = message(
        "From: MAILER-DAEMON@example.org\nContent-Type: multipart/report; "
        "report-type=delivery-status; boundary=b",
        "--b\nContent-Type: text/plain\n\nlater\n--b\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: rfc822; slow@example.net\nAction: delayed\nStatus: 4.4.1\n\n--b--\n",
    )
    bounce = parse_bounce(msg)
    assert bounce is not None and bounce.status == "4.4.1" and not bounce.permanent


def test_non_report_mail_has_no_bounce() -> None:
    assert parse_bounce(message("From: a@example.org")) is None


def _mail(headers: str, body: str) -> bytes:
    return f"{headers.strip()}\r\nTo: support@example.com\r\n\r\n{body}".encode()


EXIM = _mail(
    "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\r\n"
    "Subject: Mail delivery failed: returning message to sender\r\n"
    "X-Failed-Recipients: ann@customer.test",
    "This message was created automatically by mail delivery software.\r\n\r\n"
    "A message that you sent could not be delivered to one or more of its\r\n"
    "recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
    "  ann@customer.test\r\n"
    "    SMTP error from remote mail server after RCPT TO:<ann@customer.test>:\r\n"
    "    550 5.1.1 <ann@customer.test>: Recipient address rejected: User unknown\r\n\r\n"
    "------ This is a copy of the message, including all the headers. ------\r\n"
    "From: support@example.com\r\nSubject: over quota spam blocked\r\n\r\nhello\r\n",
)
QMAIL = _mail(
    "From: MAILER-DAEMON <>\r\nSubject: failure notice",
    "Hi. This is the qmail-send program at mx.example.net.\r\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
    "This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
    "<bob@customer.test>:\r\n552 5.2.2 Mailbox full: user is over quota\r\n\r\n"
    "--- Below this line is a copy of the message.\r\n\r\nReturn-Path: <s@example.com>\r\n",
)


def test_a_text_bounce_gives_recipient_status_and_a_hard_verdict_from_its_own_words() -> None:
    mail = parse_message(EXIM)
    assert mail.automated == "bounce"
    assert mail.bounce == Bounce("ann@customer.test", "5.1.1", permanent=True, hard=True,
                                 reason="userunknown")


def test_a_bounce_with_no_sender_is_read_and_a_full_mailbox_is_soft() -> None:
    mail = parse_message(QMAIL)
    assert mail.from_address is None  # "MAILER-DAEMON <>": the connector must not quarantine
    assert mail.bounce == Bounce("bob@customer.test", "5.2.2", permanent=True, hard=False,
                                 reason="mailboxfull")


@pytest.mark.parametrize(
    ("diagnostic", "hard"),
    [
        ("550 5.1.1 <x@customer.test>: Recipient address rejected: User unknown", True),
        ("550 5.1.2 Host or domain name not found. Name service error", True),
        ("552 5.2.2 The email account that you tried to reach is over quota", False),
        ("550 5.7.26 This mail is unauthenticated, which poses a security risk (DMARC)", False),
        ("550 5.7.1 Message rejected as spam by Content Filtering", False),
        ("554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org", False),
        ("451 4.7.1 Greylisted, please try again later", False),
    ],
)
def test_only_a_dead_address_or_domain_is_a_hard_bounce(diagnostic: str, hard: bool) -> None:
    msg = message(
        "From: MAILER-DAEMON@example.org\nContent-Type: multipart/report; "
        "report-type=delivery-status; boundary=b",
        "--b\nContent-Type: text/plain\n\nfailed\n--b\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.org\n\n"
        f"Final-Recipient: rfc822; x@customer.test\nAction: failed\nStatus: {diagnostic[4:9]}\n"
        f"Diagnostic-Code: smtp; {diagnostic}\n\n--b--\n",
    )
    bounce = parse_bounce(msg)
    assert bounce is not None and bounce.hard is hard


def test_a_delivery_notification_is_automated_but_not_a_bounce() -> None:
    mail = parse_message(_mail(
        "From: MAILER-DAEMON@example.org\r\nSubject: Delivery Status Notification (Success)\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=b",
        "--b\r\nContent-Type: text/plain\r\n\r\nDelivered.\r\n--b\r\n"
        "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; x@customer.test\r\nAction: delivered\r\nStatus: 2.0.0\r\n"
        "\r\n--b--\r\n"))
    assert mail.bounce is None and mail.automated == "delivered"


@pytest.mark.parametrize(
    ("headers", "body", "reason"),
    [
        ("From: abuse@isp.test\r\nSubject: Abuse report", "Feedback-Type: abuse\r\n"
         "User-Agent: SomeGenerator/1.0\r\nVersion: 1\r\n", "feedback"),
        ("From: ann@customer.test\r\nSubject: Auto reply: your question", "Away.", "autoreply"),
        ("From: staff@isp.test\r\nSubject: complaint about message from 192.0.2.1",
         "---------- Forwarded message ----------\r\nFrom: s@example.com\r\n", "feedback"),
        ("From: no-reply@sns.example\r\nSubject: AWS Notification Message",
         '{"notificationType":"Complaint","complaint":{"complainedRecipients":[]}}', "feedback"),
        ("From: ann@customer.test\r\nSubject: Automatic reply: Re: order", "Away.", "autoreply"),
        ("From: ann@customer.test\r\nSubject: Réponse automatique : commande", "Absente.",
         "autoreply"),
    ],
)
def test_reports_and_auto_replies_without_their_headers_are_automated(
        headers: str, body: str, reason: str) -> None:
    assert parse_message(_mail(headers, body)).automated == reason


def _transcript_bounce(transcript: str) -> bytes:
    """Sendmail's text bounce (no DSN part) quoting the SMTP session that failed."""
    return _mail(
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\r\n"
        "Subject: Returned mail: see transcript for details",
        "The original message was received at Mon, 2 Mar 2026 10:00:00 +0100\r\n\r\n"
        "   ----- The following addresses had permanent fatal errors -----\r\n"
        "<ann@customer.test>\r\n\r\n"
        f"   ----- Transcript of session follows -----\r\n{transcript}\r\n",
    )


@pytest.mark.parametrize(
    ("transcript", "reason", "hard"),
    [
        # The address was refused: it does not exist.
        (">>> RCPT To:<ann@customer.test>\r\n<<< 550 Unknown user ann@customer.test",
         "userunknown", True),
        (">>> DATA\r\n<<< 550 5.1.1 <ann@customer.test>... User unknown", "userunknown", True),
        # Accepted at RCPT, refused after DATA: the recipient's filter, the address exists.
        (">>> DATA\r\n<<< 550 Unknown user ann@customer.test", "filtered", False),
        ("550 5.2.1 <ann@customer.test>... User Unknown", "filtered", False),
        ("550 5.2.1 <ann@customer.test>... User Unknown (in reply to RCPT TO command)",
         "userunknown", True),
        # Our own address was refused, not theirs.
        (">>> MAIL From:<support@example.com>\r\n<<< 553 5.1.8 Domain of sender address "
         "support@example.com does not exist", "rejected", False),
        ("550 5.4.1 Recipient address rejected: Access denied (in reply to RCPT TO command)",
         "userunknown", True),
        ("550 5.1.1 <ann@customer.test> - has sent to too many recipients this hour",
         "ratelimit", False),
        ("an MX or SRV record indicated no SMTP service", "notaccept", True),
    ],
)
def test_user_unknown_is_believed_when_the_address_was_refused_not_after_data(
        transcript: str, reason: str, hard: bool) -> None:
    bounce = parse_message(_transcript_bounce(transcript)).bounce
    assert bounce is not None and bounce.recipient == "ann@customer.test"
    assert (bounce.reason, bounce.hard) == (reason, hard)


def test_a_bounce_for_two_recipients_gives_the_first_its_own_reason() -> None:
    mail = parse_message(_mail(
        "From: MAILER-DAEMON <>\r\nSubject: failure notice",
        "Hi. This is the qmail-send program at mx.example.net.\r\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n"
        "<ann@customer.test>:\r\nRemote host said: 550 5.1.1 <ann@customer.test>: Recipient "
        "address rejected: User unknown\r\n\r\n"
        "<bob@customer.test>:\r\nRemote host said: 552 5.2.2 <bob@customer.test>: Mailbox "
        "full\r\n\r\n--- Below this line is a copy of the message.\r\n\r\nhello\r\n"))
    assert mail.bounce == Bounce("ann@customer.test", "5.1.1", permanent=True, hard=True,
                                 reason="userunknown")


def test_a_local_delivery_program_failing_is_not_a_dead_address() -> None:
    msg = message(
        "From: MAILER-DAEMON@example.org\nContent-Type: multipart/report; "
        "report-type=delivery-status; boundary=b",
        "--b\nContent-Type: text/plain\n\nfailed\n--b\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; x@customer.test\n"
        "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: x-unix; procmail: Couldn't create "
        '"/var/spool/mail/x": No such user\n\n--b--\n',
    )
    bounce = parse_bounce(msg)
    assert bounce is not None and (bounce.reason, bounce.hard) == ("mailererror", False)


SNS_FOOTER = ("\r\n\r\n--\r\nIf you wish to stop receiving notifications from this topic, please "
              "click or visit the link below to unsubscribe:\r\nhttps://sns.example/unsubscribe\r\n")


def test_amazon_ses_notifications_are_read_despite_the_sns_footer_and_split_lines() -> None:
    # Sendmail splits lines over 990 characters with "!\n " even inside a JSON string.
    delivery = parse_message(_mail(
        "From: SES <no-reply@sns.amazonaws.com>\r\nSubject: AWS Notification Message",
        '{"notificationType":"Delivery","delivery":{"smtpResponse":"250 2.6.0 Message!\r\n '
        'received"}}' + SNS_FOOTER))
    assert delivery.automated == "delivered" and delivery.bounce is None
    inner = ('{"notificationType":"Bounce","bounce":{"bounceType":"Permanent",'
             '"bouncedRecipients":[{"emailAddress":"ann@customer.test","status":"5.1.1",'
             '"diagnosticCode":"smtp; 550 5.1.1 user unknown"}]},"mail":{"subject":"Nya!\n aan"}}')
    envelope = '{\r\n  "Type" : "Notification",\r\n  "Message" : ' + json.dumps(inner) + "\r\n}"
    bounced = parse_message(_mail(
        "From: SES <no-reply@sns.amazonaws.com>\r\nSubject: AWS Notification Message",
        envelope + SNS_FOOTER))
    assert bounced.bounce == Bounce("ann@customer.test", "5.1.1", permanent=True, hard=True,
                                    reason="userunknown")
