"""strip_reply rules, one at a time (the corpus covers them inside whole mails)."""

from __future__ import annotations

import pytest

from connectors.email.quotes import strip_reply


@pytest.mark.parametrize(
    "attribution",
    [
        "On Mon, 2 Mar 2026 at 10:00, Support <s@example.org> wrote:",
        "On Mon, 2 Mar 2026 at 10:00, Support <\ns@example.org> wrote:",
        "Le lun. 2 mars 2026 à 10:00, Support <s@example.org> a écrit :",
        "Le 2 mars 2026 à 10:00, Support <s@example.org> a\u00a0écrit\u00a0:",
        "Op ma 2 mrt 2026 om 10:00 schreef Support <s@example.org>:",
        "Op 2 mrt. 2026, om 10:00 heeft Support <s@example.org> het volgende geschreven:",
        "Am Mo., 2. März 2026 um 10:00 Uhr schrieb Support <s@example.org>:",
        "Am 02.03.2026 um 10:00 schrieb Support\n<s@example.org>:",
    ],
)
def test_attribution_and_quote_are_removed(attribution: str) -> None:
    text = f"New text here.\n\n{attribution}\n> old text\n> more old text\n"
    assert strip_reply(text) == "New text here."


@pytest.mark.parametrize(
    "block",
    [
        "From: Support <s@example.org>\nSent: Monday, March 2, 2026 10:00 AM\nTo: A\nSubject: x",
        "De : Support <s@example.org>\nEnvoyé : lundi 2 mars 2026 10:00\nÀ : A\nObjet : RE: x",
        "Van: Support <s@example.org>\nVerzonden: maandag 2 maart 2026 10:00\nAan: A",
        "Von: Support <s@example.org>\nGesendet: Montag, 2. März 2026 10:00\nAn: A",
        "________________________________\nFrom: Support\nSent: Monday\nTo: A",
        "-----Original Message-----\nFrom: Support\nSent: Monday",
        "-----Message d'origine-----\nDe : Support",
        "-----Oorspronkelijk bericht-----\nVan: Support",
        "-----Ursprüngliche Nachricht-----\nVon: Support",
    ],
)
def test_outlook_history_blocks_cut_everything_below(block: str) -> None:
    text = f"Please call me back.\n\n{block}\n\nOld message body.\n"
    assert strip_reply(text) == "Please call me back."


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Envoyé de mon iPhone",
        "Verzonden vanaf mijn iPhone",
        "Von meinem iPhone gesendet",
        "Get Outlook for Android",
    ],
)
def test_mobile_footers_are_removed(footer: str) -> None:
    assert strip_reply(f"Ok, thanks!\n\n{footer}") == "Ok, thanks!"


def test_signature_separator_cuts_to_the_end() -> None:
    assert strip_reply("Works now.\n\n-- \nAlice\n+32 2 123 45 67") == "Works now."


def test_mail_that_is_only_a_quote_gives_empty_text() -> None:
    assert strip_reply("On Mon, 2 Mar 2026 at 10:00, S <s@example.org> wrote:\n> hello\n") == ""
    assert strip_reply("> just a quote\n> nothing else\n") == ""


def test_inline_answers_below_quotes_are_kept() -> None:
    text = (
        "On Mon, 2 Mar 2026 at 10:00, S <s@example.org> wrote:\n"
        "> Which colour?\n\nBlue.\n\n> Which size?\n\nLarge.\n"
    )
    assert strip_reply(text) == "Blue.\n\nLarge."


def test_text_that_merely_starts_with_on_is_not_an_attribution() -> None:
    text = "On Friday the app crashed\nwhen I wrote:\n\nit failed."
    assert strip_reply(text) == text


def test_forward_without_comment_keeps_the_forwarded_mail() -> None:
    text = "---------- Forwarded message ---------\nFrom: Bank\n\nPayment refused."
    assert strip_reply(text) == text


def test_forward_with_comment_keeps_only_the_comment() -> None:
    text = "What is this?\n\nBegin forwarded message:\n\nFrom: Bank\nPayment refused."
    assert strip_reply(text) == "What is this?"


def test_crlf_input_is_normalised() -> None:
    assert strip_reply("Yes.\r\n\r\nOn Mon, 2 Mar 2026, S wrote:\r\n> q\r\n") == "Yes."
