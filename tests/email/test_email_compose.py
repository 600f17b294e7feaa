"""Outgoing replies: headers, threading, ticket tag, sanitised HTML, no header injection."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from email.message import EmailMessage

import pytest

from connectors.email import compose as compose_module
from connectors.email.compose import ComposeError, compose_reply, new_message_id
from connectors.email.parse import parse_message


def reply(
    *,
    subject: str = "My printer is broken",
    from_name: str = "Help Example",
    to_address: str = "alice@example.org",
    markdown_body: str = "Hello Alice,\n\nPlease **restart** it.",
    ticket_ref: int | None = 1234,
    in_reply_to: str | None = "<CAF-1@mail.gmail.example>",
    references: Sequence[str] = ("<root@help.example>",),
    automated: bool = False,
) -> EmailMessage:
    return compose_reply(
        from_address="support@help.example",
        from_name=from_name,
        to_address=to_address,
        subject=subject,
        markdown_body=markdown_body,
        ticket_ref=ticket_ref,
        in_reply_to=in_reply_to,
        references=references,
        message_id="<1772440000.abc@help.example>",
        automated=automated,
    )


def header_names(msg: EmailMessage) -> list[str]:
    head = msg.as_bytes().split(b"\r\n\r\n", 1)[0].decode("ascii")
    return [line.split(":", 1)[0].lower() for line in head.split("\r\n") if line[:1] not in " \t"]


def test_reply_headers_and_threading() -> None:
    msg = reply()
    assert msg["From"] == "Help Example <support@help.example>"
    assert msg["To"] == "alice@example.org"
    assert msg["Subject"] == "Re: My printer is broken [#1234]"
    assert msg["Message-ID"] == "<1772440000.abc@help.example>"
    assert msg["In-Reply-To"] == "<CAF-1@mail.gmail.example>"
    assert msg["References"] == "<root@help.example> <CAF-1@mail.gmail.example>"
    assert msg["Date"]
    assert "auto-submitted" not in header_names(msg)


def test_reply_is_multipart_alternative_with_text_and_sanitised_html() -> None:
    msg = reply(markdown_body="Hi <script>alert(1)</script> [x](javascript:alert(1)) **ok**")
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and html is not None
    assert "**ok**" in plain.get_content()
    rendered = html.get_content()
    assert "<strong>ok</strong>" in rendered
    assert "<script" not in rendered and 'href="javascript' not in rendered.lower()


def test_html_links_keep_safe_schemes_only() -> None:
    rendered = reply(markdown_body="[guide](https://example.org/g) <img src=x onerror=alert(1)>")
    html = rendered.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert 'href="https://example.org/g"' in content
    assert "<img" not in content  # shown as text, never as an element


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: RE: My printer [#1234]", "Re: My printer [#1234]"),
        ("AW: Fwd: My printer", "Re: My printer [#1234]"),
        ("[#1234] My printer", "Re: My printer [#1234]"),
        ("", "Re: (no subject) [#1234]"),
    ],
)
def test_subject_gets_one_re_and_one_tag(subject: str, expected: str) -> None:
    assert reply(subject=subject)["Subject"] == expected


def test_subject_without_ticket_has_no_tag() -> None:
    assert reply(ticket_ref=None)["Subject"] == "Re: My printer is broken"


def test_automated_reply_is_marked_per_rfc_3834() -> None:
    msg = reply(automated=True)
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"


def test_references_chain_is_capped_and_keeps_the_root() -> None:
    chain = [f"<id{i}@help.example>" for i in range(60)]
    refs = reply(references=chain, in_reply_to="<last@help.example>")["References"].split()
    assert len(refs) == 20
    assert refs[0] == "<id0@help.example>"
    assert refs[-1] == "<last@help.example>"


@pytest.mark.parametrize(
    "subject",
    [
        "hi\r\nBcc: x@evil.example",
        "hi\nBcc: x@evil.example",
        "=?utf-8?q?hi=0D=0ABcc:_x@evil.example?=",
        "=?utf-8?b?aGkNCkJjYzogeEBldmlsLmV4YW1wbGU=?=",
        "=?utf-8?q?=3D=3Futf-8=3Fq=3Fhi=3D0D=3D0ABcc:=5Fx@evil.example=3F=3D?=",
    ],
)
def test_no_header_injection_through_the_subject(subject: str) -> None:
    data = reply(subject=subject).as_bytes()
    head = data.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head and b"\nBcc:" not in head
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert "\n" not in str(parsed["Subject"]) and "\r" not in str(parsed["Subject"])


def test_no_header_injection_through_the_display_name() -> None:
    msg = reply(from_name="Support\r\nBcc: x@evil.example =?utf-8?q?=0D=0ACc:_y@evil.example?=")
    names = header_names(msg)
    assert "bcc" not in names and "cc" not in names


@pytest.mark.parametrize(
    "address", ["alice@example.org\r\nBcc: x@evil.example", "a@b@c", "Alice <a@example.org>", ""]
)
def test_unusable_addresses_are_refused(address: str) -> None:
    with pytest.raises(ComposeError):
        reply(to_address=address)


def test_composed_reply_threads_back_through_the_parser() -> None:
    parsed = parse_message(reply(automated=True).as_bytes())
    assert parsed.message_id == "<1772440000.abc@help.example>"
    assert parsed.in_reply_to == ("<CAF-1@mail.gmail.example>",)
    assert parsed.automated == "auto-submitted"
    assert parsed.new_text == "Hello Alice,\n\nPlease **restart** it."


def test_new_message_id_is_unique_and_on_our_domain() -> None:
    first, second = new_message_id("Help.Example"), new_message_id("help.example")
    assert first != second
    assert first.startswith("<") and first.endswith("@help.example>")
    with pytest.raises(ComposeError):
        new_message_id("help.example>\r\nBcc: x@evil")


def test_a_header_that_serialises_into_another_header_is_refused() -> None:
    """The last line of defence: the header block as the generator writes it must hold the
    headers that were set, no more (a raw value that bypassed the header parser here)."""
    msg = reply()
    msg.set_raw("X-Note", "hello\r\nBcc: x@evil.example")
    with pytest.raises(ComposeError, match="header block changed"):
        compose_module._check_headers(msg)
    del msg["X-Note"]
    compose_module._check_headers(msg)  # the composed reply itself passes
