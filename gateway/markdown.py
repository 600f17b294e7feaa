"""Markdown (KB answers, operator replies) to HTML that is safe to show anywhere.

Raw HTML in the source is not interpreted, and the output is sanitised again with nh3
(Ammonia) so that a crafted answer or reply cannot inject script into a page or a mail.
Bare URLs and e-mail addresses become links (linkify), because customers expect to click
them; every link opens in a new tab without giving that tab a handle on the chat.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True}).enable("linkify")
_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "code", "pre", "blockquote",
         "h1", "h2", "h3", "h4"}


def to_safe_html(markdown: str) -> str:
    """Sanitised HTML for `markdown`; links get target=_blank and rel=noopener noreferrer."""
    html = _md.render(markdown)
    return nh3.clean(html, tags=_TAGS, attributes={"a": {"href"}}, link_rel="noopener noreferrer",
                     set_tag_attribute_values={"a": {"target": "_blank"}},
                     url_schemes={"http", "https", "mailto", "tel"})
