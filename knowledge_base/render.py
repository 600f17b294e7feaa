"""Filling `{customer.name}`-style placeholders in answers, safely.

Answers are written by admins and rendered with data typed by customers, so this is a
plain lookup in a fixed set of names: no attribute access, no format specs, no
`str.format` (which would let `{customer.__class__}` walk Python objects). Answers are
Markdown, and a value is text: it is escaped, so a customer named
`[Reset here](https://evil.example)` is greeted by that name, not with a link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from linkify_it import LinkifyIt

KNOWN_PLACEHOLDERS: frozenset[str] = frozenset({
    "customer.name", "customer.email", "customer.number",
    "company.name", "company.phone", "company.email", "ticket.id",
})
#: `{section.key}`; anything else in braces is left as written.
PLACEHOLDER = re.compile(r"\{\s*([a-z_]+)\.([a-z_]+)\s*\}")
#: A placeholder with the space and the clause punctuation before it, and a peek at the
#: punctuation after it: "sorry, {customer.name}, that" needs both commas to lose one.
_WITH_SPACE = re.compile(r"([,;:]?)([ \t]?)" + PLACEHOLDER.pattern + r"(?=([,;:.!?]?))")
#: What a missing value becomes: reads naturally in "Hello {customer.name}," in any language.
_FALLBACK = {"customer.name": "", "company.name": "our team"}
#: Characters that open Markdown constructs (links, images, autolinks, raw HTML, code,
#: emphasis, headings, tables) anywhere in a line; `_` only does between words, so
#: addresses like john_doe@… stay readable in plain-text channels.
_SPECIAL = re.compile(r"([\\`*\[\]<>!#|~])")
#: An ordered-list marker at the start of a line ("1." or "1)"); "-", "+" and "=" open
#: a list item or a heading underline there too.
_LIST_NUMBER = re.compile(r"^(\d+)([.)])")
#: Answers are linkified when shown (bare URLs and addresses become links): a value that
#: would be found as one gets the separators of URLs and addresses escaped, so it stays text.
_LINKS = LinkifyIt()
_LINK_PARTS = re.compile(r"([.:@])")


def escape_markdown(value: str, line_start: bool = False) -> str:
    """`value` as literal text inside Markdown: one line, its special characters escaped
    (and, where it starts a line, what would make that line a list item or heading)."""
    line = _SPECIAL.sub(r"\\\1", " ".join(value.split()))
    if _LINKS.test(line):
        line = _LINK_PARTS.sub(r"\\\1", line)
    if not line_start:
        return line
    if line[:1] in ("-", "+", "="):
        return "\\" + line
    return _LIST_NUMBER.sub(r"\1\\\2", line)


#: CommonMark's backslash escape: any ASCII punctuation after a backslash is itself.
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def unescape_markdown(markdown: str) -> str:
    """The text with Markdown's backslash escapes removed, for channels that show the
    source as it is (a mail's text part, Slack): `\\[` reads as `[` there, not `\\[`."""
    return _ESCAPED.sub(r"\1", markdown)


def render_answer(template: str, context: Mapping[str, Mapping[str, object]],
                  open_sections: frozenset[str] = frozenset()) -> str:
    """Replace known placeholders by their values; unknown or empty ones by a neutral text.

    Every key of an `open_sections` section is known (a notification's `{fields.x}`).

    "Hello {customer.name}, ..." with no name gives "Hello, ..." rather than "Hello , ...",
    and "We're sorry, {customer.name}, that" gives "We're sorry, that", not "sorry,, that".
    """

    def value(match: re.Match[str]) -> str:
        before, space, section, key, after = match.groups()
        name = f"{section}.{key}"
        known = name in KNOWN_PLACEHOLDERS or section in open_sections
        found = context.get(section, {}).get(key) if known else None
        text = "" if found is None else str(found).strip()
        at = match.end(2)
        starts = at == 0 or template[at - 1] == "\n"
        text = escape_markdown(text, line_start=starts) or _FALLBACK.get(name, "")
        if text:
            return before + space + text
        # An empty value takes its leading space along, and the punctuation before it
        # when punctuation follows (the clause it was set off by is gone).
        return "" if before and after else before

    return _WITH_SPACE.sub(value, template)


def placeholders(template: str) -> list[str]:
    """Every `{section.key}` used in a template, known or not (for `kb lint`)."""
    return [f"{m.group(1)}.{m.group(2)}" for m in PLACEHOLDER.finditer(template)]
