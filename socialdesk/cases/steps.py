"""A case's reply mode as steps the agent works through ("acknowledge publicly,
then continue privately"), each done by a reply sent or a call or e-mail noted,
or by a brand post in the case's thread that the desk hears or imports (a reply
someone wrote on the platform itself)."""

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from socialdesk.audit.actions import do_record
from socialdesk.cases.models import Case
from socialdesk.connectors import channels
from socialdesk.lib.bulk import bulk_update_fields

ACKNOWLEDGE_PUBLICLY = "acknowledge_publicly"
CONTINUE_PRIVATELY = "continue_privately"
HOLDING_STATEMENT = "holding_statement"
REPLY_PUBLICLY = "reply_publicly"
REPLY_PRIVATELY = "reply_privately"

STEPS_BY_MODE = {
    "acknowledge_then_private": (ACKNOWLEDGE_PUBLICLY, CONTINUE_PRIVATELY),
    "holding_statement": (HOLDING_STATEMENT,),
    "public": (REPLY_PUBLICLY,),
    "private": (REPLY_PRIVATELY,),
}
LABELS = {
    ACKNOWLEDGE_PUBLICLY: "Acknowledge publicly",
    CONTINUE_PRIVATELY: "Continue privately (DM, e-mail or phone)",
    HOLDING_STATEMENT: "Post a holding statement",
    REPLY_PUBLICLY: "Reply publicly",
    REPLY_PRIVATELY: "Reply privately",
}
# What a public or a private contact with the customer completes.
DONE_BY = {
    "public": (ACKNOWLEDGE_PUBLICLY, HOLDING_STATEMENT, REPLY_PUBLICLY),
    "private": (CONTINUE_PRIVATELY, REPLY_PRIVATELY),
}


def steps_for(reply_mode: str) -> list[dict]:
    return [{"step": step, "done_at": None, "via": ""}
            for step in STEPS_BY_MODE.get(reply_mode, ())]


def steps_of(case: Case) -> list[dict]:
    """The case's steps; cases opened before steps existed get them from their reply mode."""
    return [dict(s) for s in case.steps] if case.steps else steps_for(case.reply_mode)


def for_display(case: Case) -> list[dict]:
    return [{**s, "label": LABELS.get(s["step"], s["step"]), "done": bool(s["done_at"])}
            for s in steps_of(case)]


def completed_by(channel: str, visibility: str) -> tuple[str, ...]:
    if not channels.channel(channel).public_replies:
        # No public thread (e-mail): the one private message does every step.
        return DONE_BY["public"] + DONE_BY["private"]
    return DONE_BY.get(visibility, ())


def complete(steps: list[dict], channel: str, visibility: str, at: datetime,
             via: str) -> list[dict]:
    """Mark done, in `steps`, every pending step a contact with the customer in this
    visibility completes; the steps it marked."""
    wanted = completed_by(channel, visibility)
    done = [step for step in steps if step["step"] in wanted and not step["done_at"]]
    for step in done:
        step["done_at"], step["via"] = at.isoformat(), via
    return done


@transaction.atomic
def do_mark_contact(case: Case, channel: str, visibility: str, via: str,
                    at: datetime) -> list[str]:
    """Mark every pending step that this contact with the customer completes.

    The row is locked so that a delivery and a note saved at once do not each
    write their own copy of the list over the other's.
    """
    locked = Case.objects.select_for_update().only("steps", "reply_mode").get(pk=case.pk)
    steps = steps_of(locked)
    done = complete(steps, channel, visibility, at, via)
    if done:
        Case.objects.filter(pk=case.pk).update(steps=steps, updated_at=timezone.now())
        case.steps = steps
        for step in done:
            do_record("case.step_done", case=case, at=at, step=step["step"], via=via)
    return [step["step"] for step in done]


BRAND_POST_VIA = {"public": "public reply on the platform",
                  "private": "private message on the platform"}


def do_mark_brand_posts(posts: list[tuple[int, str, str, datetime]]) -> list[tuple]:
    """Brand posts filed into cases, as (case id, channel, visibility, created_at),
    complete the steps they fulfil, as a reply sent from the desk does. One read and
    one write for them all (the pipeline files them by the thousand); returns the
    audit events, (case, verb, data), for the caller to write."""
    by_case: dict[int, list[tuple[str, str, datetime]]] = defaultdict(list)
    for case_id, channel, visibility, at in posts:
        by_case[case_id].append((channel, visibility, at))
    changed, events = [], []
    for case in Case.objects.select_for_update().only("steps", "reply_mode").filter(
            pk__in=by_case):
        steps, done = steps_of(case), []
        for channel, visibility, at in sorted(by_case[case.pk], key=lambda c: c[2]):
            done += complete(steps, channel, visibility, at, BRAND_POST_VIA[visibility])
        if done:
            case.steps = steps
            changed.append(case)
            events += [(case, "case.step_done", {"step": s["step"], "via": s["via"],
                                                 "done_at": s["done_at"]}) for s in done]
    bulk_update_fields(changed, ["steps"], model=Case)
    return events
