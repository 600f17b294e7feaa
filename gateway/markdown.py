"""Markdown (KB answers, operator replies) to HTML that is safe to show anywhere.

Raw HTML in the source is not interpreted, and the output is sanitised again with nh3
(Ammonia) so that a crafted answer or reply cannot inject script into a page or a mail.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "code", "pre", "blockquote",
         "h1", "h2", "h3", "h4"}


def to_safe_html(markdown: str) -> str:
    html = _md.render(markdown)
    return nh3.clean(html, tags=_TAGS, attributes={"a": {"href"}}, link_rel="noopener noreferrer",
                     url_schemes={"http", "https", "mailto", "tel"})

