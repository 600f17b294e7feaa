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

import re

from connectors.email import history
from connectors.email.history import is_quoted

#: Trailing signature blocks ("-----", name, role, phone) are at most this many lines.
_SIGNATURE_LINES = 6
_SIGNATURE_LINE_CHARS = 80
#: Above a header block even a short rule ("---", an HTML <hr>) belongs to the history.
_ANY_RULE = re.compile(r"^\s*[-_—=*]{3,}\s*$")


def strip_reply(text: str) -> str:
    """Only the text the customer newly wrote; "" when the mail is nothing but history."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ").split("\n")
    kept: list[str] = []
    #: An original with nothing written above its attribution is the customer's message
    #: (an embedded mail, like a forward): it is kept, quotes included, without attributions.
    embedded = False
    i = 0
    while i < len(lines):
        line = lines[i]
        forward = _forward_at(lines, i)
        if forward is not None:
            above = _tidy(_trim_signature(kept))
            if above or not forward:
                return above
            return "\n".join(lines[i:]).strip()
        if history.header_block_at(lines, i):
            return _tidy(_trim_signature(_without_rule(kept)))
        inside = history.attribution_inside(line)
        if inside is not None:
            kept.append(line[:inside].rstrip().rstrip("-").rstrip())  # "reply--- On …"
            if not embedded and not _quotes_follow(lines, i + 1):
                return _tidy(_trim_signature(kept))
            i += 1
            continue
        span = history.attribution_span(lines, i)
        if span:
            if not embedded and not _quotes_follow(lines, i + span):
                if _tidy(kept):
                    return _tidy(_trim_signature(kept))
                embedded = True
            i += span  # inline answers may follow the quotes: drop just the attribution
            continue
        if history.SIGNATURE.match(line):
            break
        if history.is_mobile_footer(line):
            if _tidy(kept):
                break  # below a footer is the quoted mail, marked or not
            i += 1
            continue
        if embedded or not is_quoted(line):
            kept.append(line.rstrip())
        i += 1
    return _tidy(_trim_signature(kept))


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


def _trim_signature(kept: list[str]) -> list[str]:
    """Cut a trailing signature block: a rule line ("-----", "—————", "__") or a
    "-Name" line followed by at most six short lines that are not sentences."""
    for start in range(max(len(kept) - 2 * _SIGNATURE_LINES, 0), len(kept)):
        line = kept[start]
        if not (history.RULE.match(line) or history.DASH_NAME.match(line)):
            continue
        if not _tidy(kept[:start]):
            continue
        rest = [x.strip() for x in kept[start + 1 :] if x.strip()]
        if len(rest) <= _SIGNATURE_LINES and not any(_is_prose(x) for x in rest):
            return kept[:start]
    return kept


def _is_prose(line: str) -> bool:
    """A sentence rather than a name, a role, an address or a link."""
    if len(line) > _SIGNATURE_LINE_CHARS and "://" not in line:
        return True
    return len(line.split()) >= 3 and line.endswith((".", "!", "?"))


def _without_rule(kept: list[str]) -> list[str]:
    """Drop Outlook's "________" line (and blank lines) sitting just above a header block."""
    end = len(kept)
    while end and not kept[end - 1].strip():
        end -= 1
    if end and _ANY_RULE.match(kept[end - 1]):
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
