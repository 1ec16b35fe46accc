"""A case's audit events as lines a person reads: "alice assigned the case to bob",
"reply approved by sam". Every verb gets a line; one this module does not know
reads as its verb in words, so the history stays complete."""

from datetime import datetime

from django import template
from django.utils import dateformat, timezone

from socialdesk.cases.models import Case, SlaClock
from socialdesk.cases.steps import LABELS as STEP_LABELS

register = template.Library()

DESK = "The desk"
NOTE_KINDS = {"note": "added an internal note", "phone": "noted a phone call",
              "email": "noted an e-mail"}
BREACH_ACTIONS = {"raise_priority": "raise the priority", "notify_supervisor": "tell the "
                  "supervisor", "reassign": "reassign it", "escalate": "escalate it"}


def _words(slug) -> str:
    return str(slug).replace("_", " ") if slug else "none"


def _status(value) -> str:
    try:
        return Case.Status(value).label.lower()
    except ValueError:
        return _words(value)


def _clock(kind) -> str:
    if not kind:
        return "SLA"
    try:
        return SlaClock.Kind(kind).label.lower()
    except ValueError:
        return _words(kind)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _clocks(kinds) -> str:
    return ", ".join(_clock(k) for k in kinds or ()) or "SLA"


def _when(iso) -> str:
    try:
        at = timezone.localtime(datetime.fromisoformat(iso))
    except (TypeError, ValueError):
        return str(iso)
    return dateformat.format(at, "M j, H:i")


def _why(data: dict) -> str:
    return f": {data['why']}" if data.get("why") else ""


def _who(event) -> str:
    return event.actor.username if event.actor_id else DESK


def _assigned(event, d: dict) -> str:
    who, assignee, before = _who(event), d.get("assignee"), d.get("before")
    if d.get("by") == "pipeline":
        return f"The desk assigned the case to {assignee}{_why(d)}"
    if d.get("by") == "queue":
        return f"The desk assigned the case to {assignee} from the team's queue{_why(d)}"
    if assignee is None:
        return f"{who} put the case back in the team's queue" + (
            f" (it was {before}'s)" if before else "")
    if event.actor_id and assignee == event.actor.username:
        return f"{who} took the case" + (f" from {before}" if before else "")
    return f"{who} assigned the case to {assignee}" + (
        f" (it was {before}'s)" if before else "")


def _tags(event, d: dict) -> str:
    parts = []
    if d.get("added"):
        parts.append("tagged the case " + ", ".join(d["added"]))
    if d.get("removed"):
        parts.append("removed the tag" + ("s " if len(d["removed"]) > 1 else " ")
                     + ", ".join(d["removed"]))
    return f"{_who(event)} " + (" and ".join(parts) or "changed no tags")


def _reply_queued(event, d: dict) -> str:
    line = f"{_who(event)} sent a {d.get('visibility', '')} reply".replace("  ", " ")
    if d.get("approved_by_author"):
        line += " (as an approver)"
    if d.get("confirmed_warnings"):
        line += ", confirming the warning" + ("s " if len(d["confirmed_warnings"]) > 1 else " ") \
            + ", ".join(_words(w) for w in d["confirmed_warnings"])
    return line


def _follow_up(d: dict) -> str:
    return f"“{d['action']}”" if d.get("action") else "a follow-up"


def _sla(event, d: dict) -> str | None:
    verb = event.verb.removeprefix("sla.")
    kind = _clock(d.get("kind"))
    lines = {
        "hit": f"{_cap(kind)} target met",
        "missed": f"{_cap(kind)} target missed",
        "breached": f"{_cap(kind)} target missed" + (
            "; the desk will " + " and ".join(BREACH_ACTIONS.get(a, _words(a))
                                              for a in d["actions"]) if d.get("actions") else ""),
        "warning": f"Warning: {kind} due {_when(d.get('due_at'))}",
        "window_closing": f"The reply window closes {_when(d.get('due_at'))}",
        "window_closed": "The reply window has closed; answer by another route",
        "missed_on_arrival": (f"{_cap(_clocks(d.get('kinds')))} target already "
                              "missed when the case arrived"),
        "started": f"SLA clock started: {_clocks(d.get('kinds'))}" + (
            f" ({d['why']})" if d.get("why") else ""),
        "paused": f"SLA clocks paused: {_clocks(d.get('kinds'))}" + (
            f" ({d['why']})" if d.get("why") else ""),
        "resumed": "SLA clocks resumed: " + ", ".join(
            f"{_clock(k)} due {_when(v)}" for k, v in (d.get("due") or {}).items()),
        "action_failed": f"An SLA action failed ({_words(d.get('action'))}): {d.get('error')}",
    }
    return lines.get(verb)


def _opened(event, d: dict, who: str) -> str:
    line = (f"The desk opened the case for {d.get('team')} ({_words(d.get('decision'))}, "
            f"{d.get('priority')})")
    return line + (f" by routing rule {d['rule']}" if d.get("rule") else "")


def _status_changed(event, d: dict, who: str) -> str:
    line = (f"{who} changed the status from {_status(d.get('before'))} to "
            f"{_status(d.get('after'))}")
    if d.get("cancelled_follow_ups"):
        line += f"; {d['cancelled_follow_ups']} follow-up(s) on the customer cancelled"
    return line


def _note(event, d: dict, who: str) -> str:
    line = f"{who} {NOTE_KINDS.get(d.get('kind'), 'added a note')}"
    return line + (" for " + ", ".join(f"@{m}" for m in d["mentions"])
                   if d.get("mentions") else "")


def _expired(event, d: dict, who: str) -> str:
    then = ("the case reopened" if d.get("on_expiry") == "reopen"
            else "the assignee was reminded")
    return f"Follow-up {_follow_up(d)} expired; {then}"


def _corrected(event, d: dict, who: str) -> str:
    line = (f"{who} corrected the triage's {d.get('field')} from {_words(d.get('before'))} "
            f"to {_words(d.get('after'))}")
    return line + (f" (“{d['note']}”)" if d.get("note") else "")


LINES = {
    "case.opened": _opened,
    "case.queued": lambda e, d, who: f"The case waits in the {d.get('team')} queue{_why(d)}",
    "case.assigned": lambda e, d, who: _assigned(e, d),
    "case.reassigned": lambda e, d, who: (f"{who} reassigned the case from {d.get('before')} "
                                          f"to {d.get('assignee')}{_why(d)}"),
    "case.unassigned": lambda e, d, who: (f"{who} took the case from {d.get('before')} back "
                                          f"to the queue{_why(d)}"),
    "case.not_reassigned": lambda e, d, who: f"The desk could not reassign the case{_why(d)}",
    "case.escalated": lambda e, d, who: f"{who} escalated the case to {d.get('team')}{_why(d)}",
    "case.reopened": lambda e, d, who: (f"{who if e.actor_id else 'A new post'} reopened the "
                                        f"case (it was {_status(d.get('from'))})"),
    "case.status_changed": _status_changed,
    "case.priority_changed": lambda e, d, who: (f"{who} changed the priority from "
                                                f"{d.get('before')} to {d.get('after')}"),
    "case.priority_raised": lambda e, d, who: (f"{who} raised the priority from "
                                               f"{d.get('before')} to {d.get('after')}{_why(d)}"),
    "case.tags_changed": lambda e, d, who: _tags(e, d),
    "case.step_done": lambda e, d, who: (
        f"Step done: {STEP_LABELS.get(d.get('step'), _words(d.get('step')))}"
        + (f" ({d['via']})" if d.get("via") else "")),
    "reply.awaiting_approval": lambda e, d, who: (
        f"{who} wrote a {d.get('visibility')} reply that waits for approval by "
        f"{d.get('approval_by')}"),
    "reply.queued": lambda e, d, who: _reply_queued(e, d),
    "reply.approved": lambda e, d, who: (f"{d.get('author')}'s reply approved by {who}"
                                         + (" with edits" if d.get("edited") else "")),
    "reply.returned": lambda e, d, who: (f"{who} sent {d.get('author')}'s reply back: "
                                         f"“{d.get('comment')}”"),
    "reply.sent": lambda e, d, who: f"{who}'s {d.get('visibility')} reply was delivered",
    "reply.retrying": lambda e, d, who: (f"A reply could not be delivered (attempt "
                                         f"{d.get('attempt')}), trying again: {d.get('error')}"),
    "reply.failed": lambda e, d, who: f"A reply could not be delivered: {d.get('error')}",
    "note.added": _note,
    "follow_up.added": lambda e, d, who: (f"{who} set a follow-up: {_follow_up(d)} by "
                                          f"{_when(d.get('due_at'))}"),
    "follow_up.met": lambda e, d, who: f"The customer answered: follow-up {_follow_up(d)} met",
    "follow_up.expired": _expired,
    "triage.corrected": _corrected,
}


def _line(event) -> str | None:
    if event.verb.startswith("sla."):
        return _sla(event, event.data or {})
    describe = LINES.get(event.verb)
    return describe(event, event.data or {}, _who(event)) if describe else None


@register.filter
def event_line(event) -> str:
    """The event as a sentence (names as they are spelt); unknown verbs and odd data
    still read."""
    try:
        line = _line(event)
    except (AttributeError, KeyError, TypeError, ValueError):
        line = None
    if line is None:
        line = f"{_who(event)}: {event.verb.replace('.', ' ').replace('_', ' ')}"
    return line
