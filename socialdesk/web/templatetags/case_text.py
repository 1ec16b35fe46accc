"""The case page in words: the triage decision as one sentence, and SLA clocks as
"due in 42 min" / "12 min overdue"."""

import re
from datetime import datetime

from django import template
from django.utils import timezone

from socialdesk.web.templatetags.desk import duration

register = template.Library()

TIERS = {"vip": "a VIP customer", "customer": "a customer"}
DECISIONS = {"respond": "respond", "escalate": "escalate and respond",
             "monitor": "monitor it, no reply needed", "let_stand": "let it stand, no reply "
             "needed", "hide": "hide it"}
ANSWERED = ("respond", "escalate")
REPLY_MODES = {"acknowledge_then_private": "publicly then privately", "public": "publicly",
               "private": "privately", "holding_statement": "with a holding statement first"}

# The reasons triage stores (triage.engine, triage.policy), read back for the sentence.
_RULE = re.compile(r"policy rule (?P<name>\S+) \((?P<condition>.*)\): ")
_ADJUSTMENT = re.compile(r"adjustment (?P<name>\S+): (?P<changes>.+)")
_CUE = re.compile(r"cue (?P<cue>[\w-]+): (?P<evidence>.+)")
_SEVERITY = re.compile(r"severity (?P<level>S[23]): (?P<why>.+)")


@register.filter
def minutes_words(minutes: int | None) -> str:
    """60 → "1 hour", 90 → "1.5 hours", 1440 → "1 day", 30 → "30 minutes"."""
    if not minutes:
        return ""
    for size, unit in ((1440, "day"), (60, "hour")):
        if minutes >= size:
            count = minutes / size
            shown = f"{count:.0f}" if count.is_integer() else f"{count:.1f}"
            return f"{shown} {unit}{'' if count == 1 else 's'}"
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def _author(author: dict) -> str:
    who = TIERS.get(author.get("tier") or "", "someone")
    followers = author.get("followers")
    if followers:
        who += f" with {followers:,} follower{'' if followers == 1 else 's'}"
    if author.get("repeat_poster"):
        recent = author.get("recent_posts")
        who += f" who posted {recent} times lately" if recent else " who posts often"
    if author.get("account_owner"):
        who += f" (account owner {author['account_owner']})"
    return who


def _todo(triage) -> str:
    todo = DECISIONS.get(triage.decision, triage.decision.replace("_", " "))
    if triage.decision in ANSWERED:
        if triage.first_response_minutes:
            todo += f" within {minutes_words(triage.first_response_minutes)}"
        if triage.reply_mode in REPLY_MODES:
            todo += f", {REPLY_MODES[triage.reply_mode]}"
    return todo


def _because(reasons: list) -> str:
    cues, parts = [], []
    for reason in reasons or ():
        reason = str(reason)
        if m := _RULE.match(reason):
            parts.insert(0, f"the rule “{m['name']}” matched ({m['condition']})")
        elif m := _ADJUSTMENT.fullmatch(reason):
            parts.append(f"“{m['name']}” adjusted it ({m['changes']})")
        elif m := _CUE.fullmatch(reason):
            if m["cue"] == "volume_spike":
                parts.append(f"posts on it are spiking ({m['evidence']})")
            else:
                cues.append(f"{m['evidence']} ({m['cue']})")
        elif m := _SEVERITY.fullmatch(reason):
            parts.append(f"severity {m['level']}: {m['why']}")
    if cues:
        parts.append("it mentions " + " and ".join(cues))
    return "; ".join(parts)


@register.filter
def triage_sentence(triage) -> str:
    """"Complaint, negative, from a customer with 12,400 followers: respond within
    1 hour, publicly then privately, because the rule “unhappy-customer” matched
    (category complaint)." """
    head = (f"{triage.category.replace('_', ' ').capitalize()}, {triage.sentiment}, "
            f"from {_author(triage.author or {})}")
    because = _because(triage.reasons)
    return f"{head}: {_todo(triage)}" + (f", because {because}" if because else "") + "."


@register.simple_tag
def countdown(due_at: datetime, now: datetime | None = None) -> str:
    """"in 42 min" before the due time, "12 min overdue" after it."""
    left = (due_at - (now or timezone.now())).total_seconds()
    return f"in {duration(left)}" if left >= 0 else f"{duration(-left)} overdue"
