"""Build outgoing replies: threaded, tagged with the ticket, safe to send.

Everything that reaches a header may come from a customer (a subject, a name), so
every header value is reduced to one line of text before use, and the finished
message is checked for header injection before it is returned (cpython#121650: an
RFC 2047-encoded newline in a subject injected a `Bcc:` header).
"""

from __future__ import annotations

import email.policy
import email.utils
import re
import secrets
import time
from collections.abc import Sequence
from email.headerregistry import Address
from email.message import EmailMessage

import nh3
from markdown_it import MarkdownIt

from connectors.email.headers import (
    HEADER_ERRORS,
    message_ids,
    normalise_message_id,
    one_line,
)
from connectors.email.mailthread import clean_subject
from knowledge_base.render import unescape_markdown

#: References kept in a reply: the thread root and the newest ones are what threads a
#: mail (RFC 5322 §3.6.4; long chains are trimmed from the middle as mailers do).
MAX_REFERENCES = 20
_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?")
_HTML_TAGS = {
    "p", "br", "a", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol",
    "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr",
    "th", "td", "del", "s",
}  # fmt: skip
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


class ComposeError(ValueError):
    """An address, domain or Message-ID given to compose is unusable; nothing was built."""


def new_message_id(domain: str) -> str:
    """A fresh, unguessable Message-ID on our own domain (RFC 5322 §3.6.4)."""
    domain = domain.strip().lower()
    if not _DOMAIN.fullmatch(domain) or ".." in domain:
        raise ComposeError(f"not a usable Message-ID domain: {domain!r}")
    return f"<{int(time.time())}.{secrets.token_hex(12)}@{domain}>"


def compose_reply(
    *,
    from_address: str,
    from_name: str,
    to_address: str,
    subject: str,
    markdown_body: str,
    ticket_ref: int | None,
    in_reply_to: str | None,
    references: Sequence[str],
    message_id: str,
    automated: bool,
    first: bool = False,
    unsubscribe_url: str | None = None,
    files: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """A multipart/alternative reply (Markdown text + sanitised HTML), ready for SMTP.

    `first`: the company starts the thread (a notification): the subject is the
    template's, without "Re:", and the mail is `Auto-Submitted: auto-generated` (RFC 3834
    §5), so auto-responders stay quiet while the customer can still answer it.
    `unsubscribe_url`: a campaign's one-click unsubscribe (RFC 8058: `List-Unsubscribe`
    with an HTTPS URI, and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`).
    `files` (name, content type, bytes): an operator's attachments; the mail becomes
    multipart/mixed around the alternative parts."""
    own_id = normalise_message_id(message_id)
    if own_id is None:
        raise ComposeError(f"not a usable Message-ID: {message_id!r}")
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = _address(from_address, from_name)
    msg["To"] = _address(to_address, "")
    msg["Subject"] = first_subject(subject, ticket_ref) if first else \
        reply_subject(subject, ticket_ref)
    msg["Date"] = email.utils.formatdate(usegmt=True)
    msg["Message-ID"] = own_id
    parent = normalise_message_id(in_reply_to)
    chain = _reference_chain(references, parent)
    if parent:
        msg["In-Reply-To"] = parent
    if chain:
        msg["References"] = " ".join(chain)
    if first:
        msg["Auto-Submitted"] = "auto-generated"
    elif automated:
        msg["Auto-Submitted"] = "auto-replied"  # RFC 3834 §5: mark, so others don't answer
        msg["X-Auto-Response-Suppress"] = "All"  # Exchange: no out-of-office back to us
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{one_line(unsubscribe_url)}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = markdown_body.replace("\r\n", "\n").replace("\r", "\n")
    msg.set_content(unescape_markdown(text))
    msg.add_alternative(_html(text), subtype="html")
    for name, content_type, data in files:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream",
                           filename=name)
    _check_headers(msg)
    return msg


def first_subject(subject: str, ticket_ref: int | None) -> str:
    """The subject of a thread we start: one line, with the ticket's tag when there is one."""
    base = one_line(subject) or "(no subject)"
    return f"{base} [#{ticket_ref}]" if ticket_ref is not None else base


def reply_subject(subject: str, ticket_ref: int | None) -> str:
    """ "Re: <subject> [#1234]": one "Re:", one tag, whatever the incoming subject had."""
    base = clean_subject(one_line(subject)) or "(no subject)"
    tag = f" [#{ticket_ref}]" if ticket_ref is not None else ""
    return f"Re: {base}{tag}"


def _address(address: str, name: str) -> Address:
    addr = address.strip()
    if one_line(address) != addr or addr.count("@") != 1 or any(c in addr for c in '<>,;"( )'):
        raise ComposeError(f"not a usable mail address: {address!r}")
    try:
        return Address(display_name=one_line(name), addr_spec=addr)
    except HEADER_ERRORS as exc:
        raise ComposeError(f"not a usable mail address: {address!r}") from exc


def _reference_chain(references: Sequence[str], parent: str | None) -> list[str]:
    """The parent's chain plus the parent itself (RFC 5322 §3.6.4), capped."""
    chain: list[str] = []
    for value in (*references, parent or ""):
        for message_id in message_ids(value):
            if message_id not in chain:
                chain.append(message_id)
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return chain


def _html(markdown_text: str) -> str:
    """Markdown rendered, then sanitised: the body may quote customer-written text."""
    body = nh3.clean(
        _MARKDOWN.render(markdown_text),
        tags=_HTML_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}</body></html>\n'
    )


def _check_headers(msg: EmailMessage) -> None:
    """Refuse to return a message whose serialised header block differs from what was set.

    The block is folded as the generator writes it (`policy.fold_binary` per header), not
    by serialising the whole message: the parts are serialised once, when it is sent."""
    head = b"".join(msg.policy.fold_binary(name, value) for name, value in msg.raw_items())
    names = [
        line.split(b":", 1)[0].decode("ascii", "replace").lower()
        for line in head.split(b"\r\n")
        if line and line[:1] not in (b" ", b"\t")
    ]
    if names != [k.lower() for k in msg.keys()]:
        raise ComposeError(f"refusing to send: header block changed during serialisation {names}")
