from django import template

from socialdesk.contacts.tags import LABELS

register = template.Library()


@register.filter
def tag_label(tag: str) -> str:
    """vip → VIP; an agent's own tag as it was written."""
    return LABELS.get(tag, tag)
