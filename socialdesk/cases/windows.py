"""How long after a person's last message the brand may still write to them privately.

Some platforms close the private channel: Meta lets a Page or an Instagram
account message a person for 24 hours after their last message, and for 7
days when a person (not an automation) writes with the human agent tag; a
private reply to a comment must also come within 7 days of it
(connectors/channels: `reply_window`, `window_extension`). Every reply the
desk sends is written by a person, so the extension applies to all of them,
and the connector sends them with the tag when the short window has closed.

The window is enforced, not only shown: a private reply past it is refused
when it is written, and again when it is delivered (an approval can take
longer than the window has left).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from socialdesk.cases.models import Case
from socialdesk.connectors import channels
from socialdesk.ingestion.models import Post

HUMAN_AGENT = "human_agent"


@dataclass(frozen=True)
class Window:
    open: bool
    tag: str = ""  # the message tag the reply must carry to go out (HUMAN_AGENT)
    reason: str = ""


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.0f} hours"
    return f"{hours / 24:.0f} days"


def private_window(case: Case, now: datetime) -> Window:
    """Whether a private reply on the case may go out now, and with which tag."""
    facts = channels.channel(case.channel)
    if facts.reply_window is None:
        return Window(open=True)
    last = (Post.objects.filter(case=case, direction=Post.Direction.INBOUND)
            .order_by("-created_at").values_list("created_at", flat=True).first())
    if last is None:
        return Window(open=True)
    since = now - last
    if since <= facts.reply_window:
        return Window(open=True)
    if facts.window_extension is not None and since <= facts.window_extension:
        return Window(open=True, tag=HUMAN_AGENT)
    allowed = _span(facts.reply_window)
    if facts.window_extension is not None:
        allowed += f" ({_span(facts.window_extension)} with the {facts.window_extension_name})"
    return Window(open=False, reason=(
        f"{facts.label} lets the brand write privately only up to {allowed} after the "
        f"person's last message, and theirs was {_span(since)} ago: reply publicly, or wait "
        "for them to write again."))
