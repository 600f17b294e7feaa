"""Keep only what the customer newly wrote in a reply: no quoted history, no signature.

The knowledge base and the operators need the new question, not the whole thread
below it. Rules, applied in order (see docs/email-parsing.md):

1. A history marker cuts everything from it: Outlook header blocks ("From:/Sent:",
   "De :/Envoyé :", "Van:/Verzonden:", "Von:/Gesendet:"), "-----Original Message-----"
   and its translations, and forward markers. A forward with nothing written above it
   is kept: the forwarded mail is then the customer's message.
2. An attribution line ("On ... wrote:", "Le ... a écrit :", "Op ... schreef ...:",
   "Am ... schrieb ...:"), possibly wrapped over up to three lines, cuts everything
   from it when only quoted lines follow; when the customer answered inline below it,
   the line and the quotes go and the inline answers stay.
3. ">"-quoted lines go; a "-- " signature separator cuts to the end; "Sent from my
   iPhone"-style lines go.
"""

from __future__ import annotations

import re

# An attribution always carries a date or a time, hence the digit: "On Friday I tried"
# is prose, "On Fri, 3 Mar 2026 at 10:12, Bob <b@x> wrote:" is not.
_ATTRIBUTION = re.compile(
    r"^\s*(?:"
    r"On\s.*\d.*\swrote\s?:"
    r"|Le\s.*\d.*\sa\s+écrit\s?:"
    r"|Op\s.*\d.*\s(?:schreef\s.*|het\s+volgende\s+geschreven\s?):"
    r"|Am\s.*\d.*\sschrieb\s.*:"
    r"|El\s.*\d.*\sescribió\s?:"
    r"|Il\s.*\d.*\sha\s+scritto\s?:"
    r")\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^\s*(?:On|Le|Op|Am|El|Il)\s", re.IGNORECASE)
#: An attribution wrapped by the mailer spans at most this many lines.
_ATTRIBUTION_LINES = 3

_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Message d'origine|Oorspronkelijk bericht"
    r"|Ursprüngliche Nachricht|Originalnachricht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^\s*(?:-{2,}\s*(?:Forwarded message|Message transféré|Doorgestuurd bericht"
    r"|Weitergeleitete Nachricht)\s*-{2,}"
    r"|Begin forwarded message\s?:|Début du message réexpédié\s?:"
    r"|Begin doorgestuurd bericht\s?:|Anfang der weitergeleiteten Nachricht\s?:)\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\**(?:From|De|Van|Von)\s?:\**\s+\S", re.IGNORECASE)
_HEADER_WHEN = re.compile(
    r"^\s*\**(?:Sent|Date|Envoyé|Verzonden|Datum|Gesendet)\s?:\**\s+\S", re.IGNORECASE
)
#: Outlook puts "Sent:" within the next few lines after "From:".
_HEADER_SPAN = 4
_RULE = re.compile(r"^\s*(?:_{5,}|-{5,})\s*$")
_SIGNATURE = re.compile(r"^-- ?$")
_MOBILE = re.compile(
    r"^\s*(?:Sent from my \S.*|Sent from (?:Outlook|Mail|Yahoo Mail)\b.*"
    r"|Get Outlook for (?:iOS|Android)\b.*|Envoyé de mon \S.*|Envoyé depuis mon \S.*"
    r"|Verzonden (?:vanaf|met) mijn \S.*|Verstuurd vanaf mijn \S.*"
    r"|Von meinem \S.* gesendet\.?|Gesendet von meinem \S.*)\s*$",
    re.IGNORECASE,
)


def strip_reply(text: str) -> str:
    """Only the text the customer newly wrote; "" when the mail is nothing but history."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ").split("\n")
    marker = _history_marker(lines)
    if marker is not None:
        index, is_forward = marker
        above = _clean(lines[:index])
        if above or not is_forward:
            return above
        return "\n".join(lines[index:]).strip()
    return _clean(lines)


def _history_marker(lines: list[str]) -> tuple[int, bool] | None:
    """(index, is_forward) of the first Outlook header block, separator or forward marker."""
    for i, line in enumerate(lines):
        if _FORWARD.match(line):
            return _with_rule_above(lines, i), True
        if _ORIGINAL.match(line):
            return i, False
        if _HEADER_FROM.match(line) and any(
            _HEADER_WHEN.match(nxt) for nxt in lines[i + 1 : i + 1 + _HEADER_SPAN]
        ):
            return _with_rule_above(lines, i), False
    return None


def _with_rule_above(lines: list[str], index: int) -> int:
    """Include Outlook's "________" line (and blank lines) sitting just above a block."""
    j = index
    while j > 0 and not lines[j - 1].strip():
        j -= 1
    return j - 1 if j > 0 and _RULE.match(lines[j - 1]) else index


def _clean(lines: list[str]) -> str:
    """Apply the attribution, quote, signature and mobile-footer rules (2 and 3)."""
    kept: list[str] = []
    i = 0
    while i < len(lines):
        span = _attribution_span(lines, i)
        if span:
            if _only_history(lines[i + span :]):
                break  # nothing but quotes follow: cut here
            i += span  # inline answers follow: drop just the attribution
            continue
        line = lines[i]
        if _SIGNATURE.match(line):
            break
        if not line.lstrip().startswith(">") and not _MOBILE.match(line):
            kept.append(line.rstrip())
        i += 1
    return _tidy(kept)


def _only_history(lines: list[str]) -> bool:
    """True when no line the customer wrote follows (quotes, blanks, footers, signature)."""
    for line in lines:
        if _SIGNATURE.match(line):
            return True
        if line.strip() and not line.lstrip().startswith(">") and not _MOBILE.match(line):
            return False
    return True


def _attribution_span(lines: list[str], i: int) -> int:
    """How many lines (1-3) the attribution starting at line i spans, or 0."""
    if not _ATTRIBUTION_START.match(lines[i]):
        return 0
    joined = ""
    for span in range(1, _ATTRIBUTION_LINES + 1):
        if i + span > len(lines) or not lines[i + span - 1].strip():
            return 0
        joined = f"{joined} {lines[i + span - 1].strip()}".strip()
        if _ATTRIBUTION.match(joined):
            return span
    return 0


def _tidy(lines: list[str]) -> str:
    """Trim blank lines at both ends and collapse runs left behind by removed quotes."""
    out: list[str] = []
    for line in lines:
        if not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line)
    return "\n".join(out).strip()
