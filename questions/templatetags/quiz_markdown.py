"""``{{ quiz.description|markdown }}``: an instructor's Markdown, rendered and sanitised with nh3."""

from __future__ import annotations

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "b", "i", "code", "pre", "ul", "ol", "li", "a", "blockquote", "hr"}
    | {"h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"}
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def markdown_to_safe_html(text: str) -> str:
    """Markdown to HTML, then only allowlisted tags, attributes and URL schemes survive."""
    html = markdown_lib.markdown(text or "", extensions=["tables", "sane_lists"])
    return str(
        nh3.clean(
            html,
            tags=set(ALLOWED_TAGS),
            attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
            url_schemes=set(URL_SCHEMES),
            clean_content_tags={"script", "style"},
            link_rel="noopener noreferrer nofollow",
        )
    )


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return mark_safe(markdown_to_safe_html(str(text or "")))  # noqa: S308 (sanitised by nh3 just above)
