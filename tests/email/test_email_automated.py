"""Automated-mail detection (RFC 3834 §2) and DSN reading (RFC 3464)."""

from __future__ import annotations

import email
import email.policy
from email.message import Message

import pytest

from connectors.email.automated import automated_reason, parse_bounce


def message(headers: str, body: str = "hi\n") -> Message:
    return email.message_from_string(f"{headers.strip()}\n\n{body}", policy=email.policy.default)


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
    assert automated_reason(message(f"From: x@example.org\n{headers}"), "x@example.org") == reason


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.org", "postmaster@example.org"])
def test_daemon_senders_are_bounces(sender: str) -> None:
    assert automated_reason(message(f"From: {sender}"), sender.lower()) == "bounce"


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
