"""parse_message on hostile and unusual input: it always returns, with honest defects."""

from __future__ import annotations

import base64
import random
import time
from pathlib import Path

import pytest

from connectors.email.parse import html_to_text, parse_message

CORPUS = Path(__file__).parent / "corpus"


def mail(headers: str, body: bytes = b"Hello\r\n") -> bytes:
    return headers.strip().replace("\n", "\r\n").encode() + b"\r\n\r\n" + body


def test_ten_megabyte_attachment_is_flagged_and_the_mail_still_parses() -> None:
    payload = b"\x00\x01PDF" * (10 * 1024 * 1024 // 5 + 1)
    encoded = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    raw = mail(
        """
From: Big Sender <big@example.org>
Subject: scans
Message-ID: <big-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"
""",
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere are the scans.\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="scans.pdf"\r\n\r\n' + encoded + b"--b--\r\n",
    )
    parsed = parse_message(raw)
    assert parsed.new_text == "Here are the scans."
    (attachment,) = parsed.attachments
    assert attachment.filename == "scans.pdf"
    assert attachment.too_large and attachment.data is None
    assert attachment.size == len(payload)


def test_small_attachment_keeps_its_bytes() -> None:
    raw = mail(
        """
From: a@example.org
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"
""",
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--b\r\nContent-Type: image/png\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n",
    )
    (attachment,) = parse_message(raw, max_attachment_bytes=100).attachments
    assert attachment.data == b"\x89PNG\r\n\x1a\n"
    assert attachment.filename == "attachment-1.png"
    assert not attachment.too_large


def test_address_with_comment_trick_never_resolves_to_the_hidden_address() -> None:
    # CVE-2023-27043: the legacy parser reads this as bob@example.com.
    parsed = parse_message(mail("From: alice@example.org(<bob@example.com>\nSubject: x"))
    assert parsed.from_address is None
    assert any("From" in d for d in parsed.defects)


@pytest.mark.parametrize(
    ("header", "address", "name"),
    [
        ("Alice Martin <Alice.Martin@Example.ORG>", "alice.martin@example.org", "Alice Martin"),
        ('"Smith, John Q." <john@example.org>', "john@example.org", "Smith, John Q."),
        ("=?utf-8?q?Andr=C3=A9?= <andre@example.org>", "andre@example.org", "André"),
        ("<bare@example.org>", "bare@example.org", ""),
    ],
)
def test_ordinary_from_headers_resolve(header: str, address: str, name: str) -> None:
    parsed = parse_message(mail(f"From: {header}\nSubject: x"))
    assert (parsed.from_address, parsed.from_name) == (address, name)


def test_two_senders_in_from_is_ambiguous() -> None:
    assert parse_message(mail("From: a@example.org, b@example.org")).from_address is None


def test_missing_message_id_gets_a_stable_content_hash() -> None:
    first = mail(
        "Received: by mx1\nFrom: a@example.org\nSubject: hi\nDate: Mon, 2 Mar 2026 10:00:00 +0000"
    )
    again = mail(
        "Received: by mx2\nFrom: a@example.org\nSubject: hi\nDate: Mon, 2 Mar 2026 10:00:00 +0000"
    )
    other = mail(
        "From: a@example.org\nSubject: hi\nDate: Mon, 2 Mar 2026 10:00:00 +0000", b"Bye\r\n"
    )
    ids = {parse_message(r).message_id for r in (first, again)}
    assert len(ids) == 1
    (only,) = ids
    assert only.endswith("@hash.invalid>") and len(only) == len("<@hash.invalid>") + 64
    assert parse_message(other).message_id != only


def test_message_id_domain_is_lower_cased_and_local_part_kept() -> None:
    parsed = parse_message(mail("Message-ID: <AbC.123@MAIL.Example.ORG>\nIn-Reply-To: x@Y.org"))
    assert parsed.message_id == "<AbC.123@mail.example.org>"
    assert parsed.in_reply_to == ("<x@y.org>",)


def test_decoded_subject_cannot_carry_a_newline() -> None:
    parsed = parse_message(mail("Subject: =?utf-8?q?hi=0D=0ABcc:_x@evil.example?="))
    assert parsed.subject == "hi Bcc: x@evil.example"


def test_deeply_nested_multiparts_do_not_crash() -> None:
    depth = 3000
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    raw = (
        b"From: a@example.org\r\nSubject: nest\r\n"
        + opening
        + b"Content-Type: text/plain\r\n\r\nhi\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.text
    assert any("nesting" in d or "too deep" in d for d in parsed.defects)


def test_part_count_is_bounded() -> None:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(500))
    raw = mail(
        "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b",
        parts + b"--b--\r\n",
    )
    started = time.monotonic()
    parsed = parse_message(raw, max_parts=50)
    assert time.monotonic() - started < 2
    assert "part 48" in parsed.text and "part 49" not in parsed.text
    assert any("too large" in d for d in parsed.defects)


def test_utf16_declared_body_is_decoded() -> None:
    raw = mail(
        "From: a@example.org\nContent-Type: text/plain; charset=utf-16", "Grüße".encode("utf-16")
    )
    assert parse_message(raw).text == "Grüße"


def test_unknown_charset_never_gives_an_empty_body() -> None:
    raw = mail(
        "From: a@example.org\nContent-Type: text/plain; charset=x-made-up",
        "déjà vu".encode("cp1252"),
    )
    parsed = parse_message(raw)
    assert parsed.text == "déjà vu"
    assert any("x-made-up" in d for d in parsed.defects)


def test_empty_body_is_recorded_not_silent() -> None:
    parsed = parse_message(mail("From: a@example.org", b""))
    assert parsed.text == ""
    assert "no readable text body" in parsed.defects


def test_alternative_prefers_plain_text_but_falls_back_to_html_when_plain_is_empty() -> None:
    raw = mail(
        "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b",
        b"--b\r\nContent-Type: text/plain\r\n\r\n \r\n--b\r\nContent-Type: text/html\r\n\r\n"
        b"<p>Only <i>here</i></p>\r\n--b--\r\n",
    )
    assert parse_message(raw).text == "Only here"


def test_date_is_timezone_aware() -> None:
    parsed = parse_message(mail("From: a@example.org\nDate: Tue, 3 Mar 2026 10:40:51 -0000"))
    assert parsed.date is not None and parsed.date.tzinfo is not None


@pytest.mark.parametrize(
    ("value", "expected"), [("All", True), ("OOF, AutoReply", True), ("DR, RN, NRN", False)]
)
def test_auto_response_suppress_means_do_not_answer(value: str, expected: bool) -> None:
    raw = mail(f"From: a@example.org\nX-Auto-Response-Suppress: {value}")
    assert parse_message(raw).auto_response_suppress is expected


def test_html_to_text_keeps_structure_and_drops_active_content() -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>alert('x')</script></head><body>"
        "<p>Line one<br>Line two</p><p>See <a href='https://example.org/a'>the guide</a>, "
        "<a href='https://example.org/b'>https://example.org/b</a> and "
        "<a href='javascript:alert(1)'>this</a>.</p>"
        "<ul><li>one<ul><li>nested</li></ul></li><li>two</li></ul>"
        "<blockquote>quoted<br>text</blockquote><pre>  keep\n  spacing</pre></body></html>"
    )
    assert html_to_text(html) == (
        "Line one\nLine two\n\n"
        "See the guide (https://example.org/a), https://example.org/b and this.\n\n"
        "- one\n  - nested\n- two\n\n"
        "> quoted\n> text\n\n"
        "  keep\n  spacing"
    )


def test_html_only_reply_quote_is_stripped_from_new_text() -> None:
    raw = mail(
        "From: a@example.org\nContent-Type: text/html; charset=utf-8",
        b"<div>Yes, that works.</div><div class=gmail_quote>On Mon, 2 Mar 2026 at 10:00, "
        b"Support &lt;s@example.org&gt; wrote:<blockquote>Does Tuesday work?</blockquote></div>",
    )
    assert parse_message(raw).new_text == "Yes, that works."


def test_unknown_encoded_word_charset_keeps_the_address() -> None:
    # Found by mutating the corpus: this display name made make_header raise CharsetError.
    parsed = parse_message(b"From: =?windo\xbes-1252?Q?=Clodie_Dubois?= <e@example.org>\r\n\r\nHi")
    assert parsed.from_address == "e@example.org"
    assert parsed.from_name


def test_damaged_corpus_mails_never_raise() -> None:
    # A seeded mutation run over the corpus (lessons §4: one bad mail must not block an
    # inbox); the same idea found the CharsetError and NUL-in-charset cases.
    rng = random.Random(2026)
    junk = [b"\r\n", b"<", b"=?utf-8?q?", b"\x00", b"\xff", b"--", b'boundary="', b";", b"("]
    for path in sorted(CORPUS.glob("*.eml")):
        original = path.read_bytes()
        for _ in range(8):
            raw = bytearray(original)
            for _ in range(4):
                pos = rng.randrange(len(raw) + 1)
                if rng.random() < 0.5:
                    raw[pos:pos] = rng.choice(junk)
                else:
                    del raw[pos : pos + rng.randint(1, 40)]
            parsed = parse_message(bytes(raw))
            for value in (parsed.text, parsed.new_text, parsed.subject, *parsed.defects):
                value.encode("utf-8")


def test_html_history_containers_are_quoted_so_only_the_reply_is_new_text() -> None:
    raw = (b"From: Ann <ann@customer.test>\r\nTo: s@example.com\r\nSubject: Re: x\r\n"
           b"Content-Type: text/html; charset=utf-8\r\n\r\n"
           b"<div>Thanks, it works now.</div><div id=\"divRplyFwdMsg\"><b>From:</b> Support"
           b"<br><b>Sent:</b> Monday</div><div>Did you try restarting?</div>")
    mail = parse_message(raw)
    assert mail.new_text == "Thanks, it works now."
    assert "Did you try restarting?" in mail.text
