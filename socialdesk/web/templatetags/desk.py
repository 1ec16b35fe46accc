from django import template

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """A span of seconds as a person reads it: 45 s, 12 min, 3.5 h, 2.1 d."""
    if seconds is None:
        return "–"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


@register.filter
def words(slug: str) -> str:
    """acknowledge_then_private → acknowledge then private"""
    return slug.replace("_", " ") if slug else "none"


@register.filter
def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"
