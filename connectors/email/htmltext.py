"""Readable text from an HTML mail, with quoted history marked as quoted.

Paragraphs, line breaks, lists, links as "text (url)", blockquotes as "> " lines; no
script, style or hidden content. The containers mailers put quoted history in (Gmail's
`gmail_quote`, Thunderbird's `moz-cite-prefix`, Outlook's `divRplyFwdMsg` and
`OutlookMessageHeader`, Yahoo's `yahoo_quoted`) are quoted like a blockquote, so that
`strip_reply` removes them from HTML-only replies too.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = {"script", "style", "head", "title", "template", "noscript"}
_BLOCK = {
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "form", "center",
    "address", "figure", "pre", "dl", "hr",
}  # fmt: skip
_LINE = {"br", "tr", "li", "dt", "dd", "blockquote"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source"}
#: Where a mailer starts the quoted history: a class or an id (see the module doc).
_HISTORY = re.compile(
    r"\b(?:gmail_quote|gmail_extra_quote|yahoo_quoted|moz-cite-prefix|OutlookMessageHeader"
    r"|divRplyFwdMsg|appendonsend|mail-quote-collapse|zmail_extra|protonmail_quote)\b")
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def html_to_text(html: str) -> str:
    """Readable text from an HTML mail: paragraphs, line breaks, lists, links as
    "text (url)", blockquotes as "> " lines; no script, style or hidden content."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return parser.result()


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []  # (quote depth, text)
        self.current = ""
        self.quote = 0
        #: Everything from a history container on is quoted (mailers put it last).
        self.history = False
        self.pre = 0
        self.skip: list[str] = []  # open tags whose content is not shown
        self.lists: list[list[int]] = []  # [counter] per open list; -1 for bullets
        self.links: list[tuple[str, int]] = []  # (href, length of current at <a>)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if self.skip:
            if tag not in _VOID:
                self.skip.append(tag)
            return
        if tag in _SKIP or _HIDDEN.search(attributes.get("style", "")):
            if tag not in _VOID:
                self.skip.append(tag)
            return
        if not self.history and _HISTORY.search(
                f'{attributes.get("class", "")} {attributes.get("id", "")}'):
            self._paragraph()
            self.history = True
        if tag in ("ul", "ol") and self.lists:
            self._newline()  # a nested list continues its parent item
        elif tag in _BLOCK:
            self._paragraph()
        elif tag == "br":
            self._newline(force=True)
        elif tag in _LINE:
            self._newline()
        if tag == "blockquote":
            self._paragraph()
            self.quote += 1
        elif tag == "pre":
            self.pre += 1
        elif tag in ("ul", "ol"):
            self.lists.append([0 if tag == "ol" else -1])
        elif tag == "li":
            marker = "- "
            if self.lists and self.lists[-1][0] >= 0:
                self.lists[-1][0] += 1
                marker = f"{self.lists[-1][0]}. "
            self.current = "  " * max(len(self.lists) - 1, 0) + marker
        elif tag in ("td", "th") and self.current.strip():
            self.current += " "
        elif tag == "a":
            self.links.append((attributes.get("href", "").strip(), len(self.current)))
        elif tag == "hr":
            self.current = "---"
            self._paragraph()

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.pop()
            return
        if tag == "a" and self.links:
            href, start = self.links.pop()
            label = self.current[start:].strip()
            target = href.removeprefix("mailto:")
            if href and not href.startswith(("#", "javascript:")) and target != label:
                self.current += f" ({target})" if label else target
        elif tag == "blockquote":
            self._newline()
            self.quote = max(self.quote - 1, 0)
            self._paragraph()
        elif tag == "pre":
            self.pre = max(self.pre - 1, 0)
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag in ("ul", "ol") and self.lists:
            self._newline()
        elif tag in _BLOCK:
            self._paragraph()
        elif tag in ("li", "tr", "dt", "dd"):
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        data = data.replace("\xa0", " ")
        if self.pre:
            first, *rest = data.split("\n")
            self.current += first
            for line in rest:
                self._newline(force=True)
                self.current += line
            return
        data = re.sub(r"\s+", " ", data)
        if not self.current.strip() or self.current.endswith(" "):
            data = data.lstrip()
        self.current += data

    def _newline(self, force: bool = False) -> None:
        """End the current line; `force` keeps it even when empty (<br><br>, <pre>)."""
        if self.current.strip() or force:
            self.lines.append((self.quote + self.history, self.current.rstrip()))
        self.current = ""

    def _paragraph(self) -> None:
        self._newline()
        if self.lines and self.lines[-1][1]:
            self.lines.append((self.quote + self.history, ""))

    def result(self) -> str:
        self._newline()
        out: list[str] = []
        for depth, text in self.lines:
            line = ("> " * depth + text).rstrip() if depth else text
            if not line.strip(" >") and out and not out[-1].strip(" >"):
                continue
            out.append(line)
        return "\n".join(out).strip()
