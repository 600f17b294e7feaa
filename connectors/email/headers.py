"""Read header values from mail that may be malformed, without ever raising.

`policy.default` raises on some real-world headers (cpython#105802: Exchange-style
Message-IDs give an IndexError), so every structured read goes through `parsed_header`,
which falls back to the raw text and records a defect. Shared by parse, automated and
compose so that there is one way to read a header.
"""

from __future__ import annotations

import codecs
import email.policy
import email.utils
import re
from email import errors
from email.header import decode_header, make_header
from email.headerregistry import AddressHeader, BaseHeader
from email.message import Message

#: What the header machinery of the standard library raises on bad input (MessageError
#: covers HeaderParseError and CharsetError, IndexError is a LookupError, UnicodeError a
#: ValueError).
HEADER_ERRORS = (errors.MessageError, LookupError, ValueError, TypeError, AttributeError)

#: Longer values are not handed to the structured parser: its cost is quadratic in the
#: number of tokens (cpython#136063), so a hostile header could stall a worker.
MAX_PARSED_HEADER = 16_384

#: Nested RFC 2047 encodings are unwrapped at most this many times before giving up.
_MAX_DECODE_ROUNDS = 3
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_SURROGATES = re.compile("[\udc80-\udcff]")
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_BARE_ID = re.compile(r"[^<>\s@]+@[^<>\s@]+")


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str | None]:
    """Decode text of uncertain charset; returns (text, defect or None). Never fails.

    Order: UTF-8 (strict; other 8-bit charsets are almost never valid UTF-8, so this
    also repairs a wrong declaration), the declared charset, cp1252, latin-1
    (zammad#2227: a bad charset must never give an empty body).
    """
    declared_name = (declared or "").strip().strip('"').lower() or None
    order = ["utf-8", "cp1252", "latin-1"]
    if declared_name:
        # UTF-16/32 text is often valid UTF-8 (NUL bytes), so trust the declaration first.
        position = 0 if declared_name.startswith(("utf-16", "utf-32")) else 1
        order.insert(position, declared_name)
    for charset in order:
        try:
            text = data.decode(charset)
        except (LookupError, ValueError):  # unknown name, a NUL in it, or undecodable
            continue
        if declared_name is None or _same_codec(charset, declared_name) or data.isascii():
            return text, None
        return text, f"declared charset {declared_name!r} did not fit; decoded as {charset}"
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _same_codec(a: str, b: str) -> bool:
    try:
        return codecs.lookup(a).name == codecs.lookup(b).name
    except (LookupError, ValueError):
        return False


def _fix_surrogates(value: str) -> str:
    """Raw 8-bit header bytes arrive as surrogate escapes; decode them properly."""
    if not _SURROGATES.search(value):
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"))[0]


def raw_header(msg: Message, name: str) -> str | None:
    """The first `name` header as unfolded text, without any structured parsing."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return _FOLD.sub("", _fix_surrogates(str(value))).strip()
    return None


def parsed_header(msg: Message, name: str, defects: list[str] | None = None) -> BaseHeader | None:
    """The first `name` header parsed by `policy.default`, or None when absent or unparseable."""
    value = raw_header(msg, name)
    if value is None:
        return None
    if len(value) > MAX_PARSED_HEADER:
        _note(defects, f"{name}: header longer than {MAX_PARSED_HEADER} characters, kept raw")
        return None
    try:
        header = email.policy.default.header_factory(name, value)
        str(header)  # some errors only surface when the value is rendered
    except HEADER_ERRORS as exc:
        _note(defects, f"{name}: unparseable header ({type(exc).__name__}), kept raw")
        return None
    if not isinstance(header, BaseHeader):  # pragma: no cover - header_factory contract
        return None
    return header


def header_text(msg: Message, name: str, defects: list[str] | None = None) -> str | None:
    """The first `name` header as decoded text; malformed values fall back to their raw text."""
    header = parsed_header(msg, name, defects)
    if header is not None:
        return _fix_surrogates(str(header))
    value = raw_header(msg, name)
    if value is None:
        return None
    try:
        return str(make_header(decode_header(value)))
    except HEADER_ERRORS:
        return value


def content_type(part: Message) -> str:
    """The part's media type, lower-cased; text/plain when the header is unusable."""
    try:
        return part.get_content_type()
    except HEADER_ERRORS:
        return "text/plain"  # RFC 2045 §5.2: the default for an unusable Content-Type


def one_line(value: str) -> str:
    """`value` as a single line of plain text, safe for any header.

    Encoded words are decoded first and the result checked again: the header registry
    would otherwise decode `=?utf-8?q?=0D=0A...?=` itself and fold the newline into
    the output (cpython#121650).
    """
    text = _CONTROL.sub(" ", value)
    for _ in range(_MAX_DECODE_ROUNDS):
        if not _ENCODED_WORD.search(text):
            break
        try:
            text = _CONTROL.sub(" ", str(make_header(decode_header(text))))
        except HEADER_ERRORS:
            break
    # Whatever still looks like an encoded word is shown literally, never decoded.
    text = _ENCODED_WORD.sub(lambda m: m.group(0).replace("=?", "= ?"), text)
    return re.sub(r"\s+", " ", text).strip()


def _note(defects: list[str] | None, text: str) -> None:
    if defects is not None:
        defects.append(text)


def normalise_message_id(value: str | None) -> str | None:
    """`<local@domain>` with the domain lower-cased, or None when there is no usable id.

    The id is taken textually rather than through `policy.default`, which raises on
    some real ids (cpython#105802); local parts stay case-sensitive (RFC 5322 §3.6.4).
    """
    ids = message_ids(value)
    return ids[0] if ids else None


def message_ids(value: str | None) -> tuple[str, ...]:
    """Every id in an In-Reply-To/References value, normalised, in order, without repeats."""
    if not value:
        return ()
    # Bare ids (no angle brackets) are tolerated only when there are no brackets at all.
    found = _MSG_ID.findall(value) if "<" in value else _BARE_ID.findall(value)
    result: list[str] = []
    for token in found:
        local, at, domain = token.rpartition("@")
        if not at or not local or not domain:
            continue
        normalised = f"<{local}@{domain.lower()}>"
        if normalised not in result:
            result.append(normalised)
    return tuple(result)


#: Defects about decoding a display name, not about which address the header names.
_HARMLESS_DEFECTS = (
    errors.ObsoleteHeaderDefect,
    errors.CharsetError,
    errors.UndecodableBytesDefect,
    errors.InvalidBase64CharactersDefect,
    errors.InvalidBase64PaddingDefect,
    errors.InvalidBase64LengthDefect,
)


def strict_address(
    msg: Message, name: str, defects: list[str] | None = None
) -> tuple[str | None, str]:
    """(lower-cased address, display name) of a one-mailbox header such as From.

    The address is None whenever the header is ambiguous: the modern parser reports a
    real defect, or the legacy parser reads another address. That is what CVE-2023-27043
    exploits (`alice@example.org(<bob@example.com>` read as bob), and a From header is
    an identity claim, so doubt means no identity rather than a guess.
    """
    header = parsed_header(msg, name, defects)
    if not isinstance(header, AddressHeader):
        return None, ""
    mailboxes = header.addresses
    display = _fix_surrogates(mailboxes[0].display_name) if len(mailboxes) == 1 else ""
    serious = [d for d in header.defects if not isinstance(d, _HARMLESS_DEFECTS)]
    if len(mailboxes) != 1 or serious:
        _note(defects, f"{name}: ambiguous address, not used")
        return None, display
    address = _plain_address(mailboxes[0].username, mailboxes[0].domain)
    legacy = {a.lower() for _, a in email.utils.getaddresses([raw_header(msg, name) or ""])}
    if address is None or legacy != {address}:
        _note(defects, f"{name}: ambiguous address, not used")
        return None, display
    return address, display


def address_list(msg: Message, name: str, defects: list[str] | None = None) -> tuple[str, ...]:
    """Every usable address of a To/Cc-style header, lower-cased; bad entries are skipped."""
    header = parsed_header(msg, name, defects)
    if not isinstance(header, AddressHeader):
        return ()
    result: list[str] = []
    for mailbox in header.addresses:
        address = _plain_address(mailbox.username, mailbox.domain)
        if address is not None and address not in result:
            result.append(address)
    return tuple(result)


_ATOMS = re.compile(r"[^\s<>()\[\]\\,;:\"@\x00-\x1f\x7f]+")


def _plain_address(username: str, domain: str) -> str | None:
    """`user@domain` lower-cased when both halves are plain text, else None."""
    if not username or not domain or not _ATOMS.fullmatch(domain):
        return None
    if any(c.isspace() or ord(c) < 32 or c in "<>" for c in username):
        return None
    return f"{username}@{domain}".lower()
