"""Forum Markdown to safe HTML for the dashboard: what staff see is what the forum shows.

Discourse renders posts with markdown-it (CommonMark, GFM tables and strikethrough,
autolinks, a newline is a line break), so the dashboard does the same with
markdown-it-py, then sanitises the HTML with nh3: posts are member-written and must
never run script or load anything. Images become links to the image, because the
dashboard's CSP (img-src 'self') would refuse third-party images and log an error.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

# What a post may keep: Discourse's own allow-list is close to this (no forms,
# frames, styles or images; headings, lists, tables, code and quotes stay).
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "del", "details", "em", "h1", "h2",
        "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "strong",
        "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "code": {"class"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
MAX_SOURCE_CHARS = 64_000  # Discourse refuses longer posts; bound the work per render


def _image_as_link(renderer: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = "".join(child.content for child in token.children or []) or "image"
    return f'<a href="{escape(src)}">[image: {escape(alt)}]</a>'


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt(
        "commonmark", {"html": True, "linkify": True, "breaks": True, "typographer": False}
    )
    md.enable(["table", "strikethrough", "linkify"])
    md.add_render_rule("image", _image_as_link)
    return md


def render_markdown(source: str | None) -> Markup:
    """Safe HTML for `source`; raw HTML in the post is kept only where nh3 allows it."""
    if not source:
        return Markup("")
    html = _parser().render(source[:MAX_SOURCE_CHARS])
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style"},
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
