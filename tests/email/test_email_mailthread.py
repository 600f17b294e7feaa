"""Threading facts: ticket tag, clean subject, Message-IDs to look up and their order."""

from __future__ import annotations

import pytest

from connectors.email.mailthread import clean_subject, subject_ticket_ref, thread_candidates
from connectors.email.parse import parse_message


@pytest.mark.parametrize(
    ("subject", "ref"),
    [
        ("Re: Your order [#1234]", 1234),
        ("[#1234] Your order", 1234),
        ("AW: WG: Antw: TR: Fwd: Your order [#77]", 77),
        ("Re: Your order [ #1234 ]", 1234),
        ("Your order #1234", None),
        ("Your order [1234]", None),
        ("Re: [#99999999999999999999]", None),
    ],
)
def test_subject_ticket_ref(subject: str, ref: int | None) -> None:
    assert subject_ticket_ref(subject) == ref


def test_subject_ticket_ref_with_custom_prefix() -> None:
    assert subject_ticket_ref("Re: [HD-42] printer", prefix="HD-") == 42
    assert subject_ticket_ref("Re: [#42] printer", prefix="HD-") is None


@pytest.mark.parametrize(
    ("subject", "clean"),
    [
        ("Re: RE: Fwd: Printer broken [#12]", "Printer broken"),
        ("TR: AW: WG: Antw: Doorst: Printer", "Printer"),
        ("Re[2]: Printer", "Printer"),
        ("[#12] Re: Printer", "Printer"),
        ("Reply needed", "Reply needed"),
        ("Fwdx: not a prefix", "Fwdx: not a prefix"),
    ],
)
def test_clean_subject(subject: str, clean: str) -> None:
    assert clean_subject(subject) == clean


def test_thread_candidates_are_references_newest_first_then_in_reply_to() -> None:
    raw = (
        b"From: a@example.org\r\n"
        b"References: <root@help.example> <second@help.example>\r\n"
        b"  <newest@help.example>\r\n"
        b"In-Reply-To: <outlook-rewrote-this@outlook.example>\r\n\r\nhi\r\n"
    )
    assert thread_candidates(parse_message(raw)) == (
        "<newest@help.example>",
        "<second@help.example>",
        "<root@help.example>",
        "<outlook-rewrote-this@outlook.example>",
    )


def test_thread_candidates_do_not_repeat_ids() -> None:
    raw = b"References: <a@x.example> <b@X.example>\r\nIn-Reply-To: <b@x.example>\r\n\r\nhi\r\n"
    assert thread_candidates(parse_message(raw)) == ("<b@x.example>", "<a@x.example>")
