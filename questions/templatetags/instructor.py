"""``{% user_is_instructor user as flag %}``: does this person teach a course (for the nav link)?"""

from __future__ import annotations

from django import template

from questions import selectors

register = template.Library()


@register.simple_tag
def user_is_instructor(user: selectors.UserLike) -> bool:
    return selectors.user_is_instructor(user=user)
