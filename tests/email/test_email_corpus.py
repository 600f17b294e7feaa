"""The corpus: real-world-shaped mails and what the customer newly wrote in each.

Every `corpus/<name>.eml` has a `corpus/<name>.expected.txt` holding the exact
`new_text`; the table below adds the other user-visible outcomes per mail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.email.parse import ParsedMail, parse_message

CORPUS = Path(__file__).parent / "corpus"
MAILS = sorted(p.stem for p in CORPUS.glob("*.eml"))

#: Why a mail is automated; every mail not listed here must read as written by a human.
AUTOMATED = {
    "auto_reply": "auto-submitted",
    "out_of_office": "autoreply",
    "dsn_bounce": "bounce",
    "mailing_list": "list",
    "html_only_newsletter": "precedence",
}


def load(name: str) -> ParsedMail:
    return parse_message((CORPUS / f"{name}.eml").read_bytes())


def test_corpus_has_the_required_shapes() -> None:
    assert len(MAILS) >= 25
    for name in MAILS:
        assert (CORPUS / f"{name}.expected.txt").is_file(), name


@pytest.mark.parametrize("name", MAILS)
def test_new_text_is_exactly_what_the_customer_wrote(name: str) -> None:
    expected = (CORPUS / f"{name}.expected.txt").read_text(encoding="utf-8").rstrip("\n")
    assert load(name).new_text == expected


@pytest.mark.parametrize("name", MAILS)
def test_every_mail_has_a_body_an_id_and_the_right_automated_reason(name: str) -> None:
    mail = load(name)
    assert mail.text.strip()
    assert mail.message_id.startswith("<") and mail.message_id.endswith(">")
    assert "\ufffd" not in mail.text  # no charset damage anywhere in the corpus
    assert mail.automated == AUTOMATED.get(name)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("outlook_fr_reply", "Je n’ai toujours pas reçu le remboursement"),
        ("outlook_de_reply", "Lizenzschlüssel ungültig"),
        ("wrong_declared_charset", "Zoë Ångström, I ordered the crème brûlée set (€ 49,95)"),
        ("missing_charset_cp1252", "Mon colis est arrivé abîmé"),
        ("outlook_nl_reply", "Boekhouding – De Vries & Zonen bv"),
        ("gmail_en_reply", "hasn’t arrived"),
    ],
)
def test_charsets_and_transfer_encodings_decode_to_readable_text(name: str, fragment: str) -> None:
    assert fragment in load(name).text


def test_wrong_declared_charset_is_repaired_and_recorded() -> None:
    mail = load("wrong_declared_charset")
    assert any("iso-8859-1" in d for d in mail.defects)


def test_encoded_headers_are_decoded() -> None:
    mail = load("outlook_de_reply")
    assert mail.from_name == "Jürgen Weiß"
    assert mail.from_address == "j.weiss@weiss-gmbh.example"
    assert mail.subject == "AW: Lizenz [#4507]"


def test_quoted_history_stays_in_text() -> None:
    mail = load("gmail_en_reply")
    assert "Your order 10442 left our warehouse" in mail.text
    assert mail.html is not None and "gmail_quote" in mail.html


def test_threading_headers_are_normalised() -> None:
    mail = load("gmail_fr_reply")
    assert mail.in_reply_to == ("<1773390000.ee22@help.example>",)
    assert mail.references == ("<1773380000.ee11@help.example>", "<1773390000.ee22@help.example>")


def test_dsn_bounce_names_the_dead_recipient() -> None:
    mail = load("dsn_bounce")
    assert mail.bounce is not None
    assert mail.bounce.recipient == "nobody@customer.example"
    assert mail.bounce.status == "5.1.1"
    assert mail.bounce.permanent


def test_forwarded_message_text_is_kept_in_text() -> None:
    mail = load("forward_rfc822")
    assert "A direct debit of EUR 12.99 to HELP EXAMPLE SRL was refused." in mail.text
    assert "From: Bank Notifications <no-reply@bank.example>" in mail.text


def test_html_only_mail_has_no_script_style_or_hidden_text() -> None:
    mail = load("html_only_newsletter")
    assert mail.html is not None
    for hidden in ("do-not-show", "font-family", "Preheader", "Spring sale</title>"):
        assert hidden not in mail.text


def test_exchange_message_id_that_trips_policy_default_is_kept() -> None:
    # cpython#105802: policy.default raises IndexError on this Message-ID.
    mail = load("exchange_message_id")
    assert mail.message_id == "<[7d1c2b3a-4e5f-6a7b-8c9d-0e1f2a3b4c5d]@exch01.fabrikam.local>"
    assert any("Message-ID" in d for d in mail.defects)


def test_broken_mime_still_yields_body_attachment_and_defects() -> None:
    mail = load("broken_mime")
    assert mail.message_id.endswith("@hash.invalid>")
    assert mail.date is None
    assert [a.filename for a in mail.attachments] == ["invoice.pdf"]
    assert mail.attachments[0].data is not None
    assert mail.attachments[0].data.startswith(b"%PDF-1.4")
    assert any("header line" in d for d in mail.defects)
    assert any("CloseBoundaryNotFound" in d for d in mail.defects)
