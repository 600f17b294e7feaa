"""Keep only what the customer newly wrote in a reply: no quoted history, no signature.

The knowledge base and the operators need the new question, not the whole thread
below it. The text is read top-down, line by line (see docs/email-parsing.md); the
first history marker ends what the customer wrote:

1. a forward or "Original Message" title line, a forward intro ("Begin forwarded
   message:"), or a block of mail header lines (From/Sent/To/Subject in any language,
   with the "_____" rule above it);
2. an attribution ("On … wrote:", "Le … a écrit :", "<Name> schrieb am …:", Gmail's
   "<date> Name <addr>:"…) followed by an unquoted or indented original — unquoted
   history (Outlook for Mac, mobile mailers) is still history. When ">"-quoted lines
   follow it, the customer may have answered inline: the attribution and the quotes go,
   the answers between them stay;
3. a "-- " signature separator, or a mobile footer ("Sent from my iPhone") below text.

">"-quoted lines go everywhere. A forward with nothing written above it is kept: the
forwarded mail is then the customer's message. Every test is bounded per line
(`history.MAX_MARKER_LINE`), so the cost is linear in the size of the mail.
"""

from __future__ import annotations

from connectors.email import history
from connectors.email.history import is_quoted

#: Trailing signature blocks ("-----", name, role, phone) are at most this many lines.
_SIGNATURE_LINES = 6
_SIGNATURE_LINE_CHARS = 60


def strip_reply(text: str) -> str:
    """Only the text the customer newly wrote; "" when the mail is nothing but history."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ").split("\n")
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        forward = _forward_at(lines, i)
        if forward is not None:
            above = _tidy(kept)
            if above or not forward:
                return above
            return "\n".join(lines[i:]).strip()
        if history.header_block_at(lines, i):
            return _tidy(_without_rule(kept))
        inside = history.attribution_inside(line)
        if inside is not None:
            kept.append(line[:inside].rstrip())
            if not _quotes_follow(lines, i + 1):
                return _tidy(kept)
            i += 1
            continue
        span = history.attribution_span(lines, i)
        if span:
            if not _quotes_follow(lines, i + span):
                return _tidy(kept)
            i += span  # inline answers may follow the quotes: drop just the attribution
            continue
        if history.SIGNATURE.match(line):
            break
        if history.is_mobile_footer(line):
            if _tidy(kept):
                break  # below a footer is the quoted mail, marked or not
            i += 1
            continue
        if history.RULE.match(line) and _signature_follows(lines, i + 1):
            break
        if not is_quoted(line):
            kept.append(line.rstrip())
        i += 1
    return _tidy(kept)


def _forward_at(lines: list[str], i: int) -> bool | None:
    """True at a forward marker, False at an "Original Message" one, None elsewhere."""
    line = lines[i]
    if is_quoted(line):
        return None
    title = history.dashed_title(line)
    if title is not None:
        kind = history.title_kind(title)
        if kind is not None:
            return kind == "forward"
        # Any other title is a forward only when mail headers come with it.
        after = [x for x in lines[i + 1 : i + 4] if x.strip()]
        if after and history.header_block_at(after, 0):
            return True
        return None
    if history.is_forward_intro(line):
        return True
    return None


def _quotes_follow(lines: list[str], start: int) -> bool:
    """Is the first non-blank line after an attribution ">"-quoted?"""
    for line in lines[start:]:
        if line.strip():
            return is_quoted(line)
    return False


def _signature_follows(lines: list[str], start: int) -> bool:
    """A rule line followed by a few short lines to the end is a signature block."""
    rest = [line for line in lines[start:] if line.strip()]
    return 0 < len(rest) <= _SIGNATURE_LINES and all(
        len(line.strip()) <= _SIGNATURE_LINE_CHARS for line in rest)


def _without_rule(kept: list[str]) -> list[str]:
    """Drop Outlook's "________" line (and blank lines) sitting just above a header block."""
    end = len(kept)
    while end and not kept[end - 1].strip():
        end -= 1
    if end and history.RULE.match(kept[end - 1]):
        return kept[: end - 1]
    return kept


def _tidy(lines: list[str]) -> str:
    """Trim blank lines at both ends and collapse runs left behind by removed quotes."""
    out: list[str] = []
    for line in lines:
        if not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line)
    return "\n".join(out).strip()
