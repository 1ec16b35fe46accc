"""One change to many cases at once, from the inbox: all of them or none.

Every id is checked against the cases the person may see before anything
changes, and each change goes through the action that makes it for one case
(with its own checks and audit event) inside one transaction: a case the
person may not see, or one that refuses the change, refuses the lot.
"""

from collections.abc import Iterable

from django.db import transaction

from socialdesk.accounts.models import User
from socialdesk.cases.actions import (
    ActionError,
    NotPermitted,
    check_assign,
    clean_tags,
    do_change_tags,
    do_set_status,
)
from socialdesk.cases.inbox import opening_posts
from socialdesk.cases.models import Case
from socialdesk.cases.queries import cases_visible_to
from socialdesk.triage import feedback

MAX_CASES = 500
SPAM = "spam"
ACTIONS = {"assign_me": "Assign to me", "assign": "Assign to…", "tag": "Add tag…",
           "resolve": "Resolve", "spam": "Mark as spam"}


def check_cases(user: User, ids: Iterable[int]) -> list[Case]:
    """The cases, if the user may see every one of them; else NotPermitted, saying how
    many are out of reach and not which (no hint of what exists)."""
    wanted = set(ids)
    if not wanted:
        raise ActionError("Select at least one case.")
    if len(wanted) > MAX_CASES:
        raise ActionError(f"At most {MAX_CASES} cases at once; {len(wanted):,} were selected.")
    cases = list(cases_visible_to(user).filter(pk__in=wanted)
                 .select_related("team", "assignee").order_by("pk"))
    missing = len(wanted) - len(cases)
    if missing:
        raise NotPermitted(f"{missing} of the {len(wanted)} selected cases "
                           f"{'is' if missing == 1 else 'are'} not yours to change or no "
                           "longer there: nothing was changed.")
    return cases


@transaction.atomic
def do_bulk_assign(cases: list[Case], assignee: User, actor: User) -> int:
    """Assign each case (not already theirs) to the assignee: anyone takes cases for
    themselves; only supervisors and admins hand them to a member of each case's team."""
    changed = 0
    for case in cases:
        if case.assignee_id == assignee.pk:
            continue
        check_assign(case, assignee, actor)
        changed += 1
    return changed


@transaction.atomic
def do_bulk_tag(cases: list[Case], tag: str, actor: User) -> int:
    tag = clean_tags([tag])[0]
    changed = 0
    for case in cases:
        if tag not in (case.tags or []):
            do_change_tags(case, actor, add=[tag])
            changed += 1
    return changed


@transaction.atomic
def do_bulk_resolve(cases: list[Case], actor: User) -> int:
    changed = 0
    for case in cases:
        if case.is_open:
            do_set_status(case, Case.Status.RESOLVED, actor)
            changed += 1
    return changed


@transaction.atomic
def do_bulk_mark_spam(cases: list[Case], actor: User) -> int:
    """Spam: the opening post's category is corrected to spam (a training label, and
    the policy decides again), the case tagged "spam" and closed."""
    openers = opening_posts([case.pk for case in cases])
    changed = 0
    for case in cases:
        post = openers.get(case.pk)
        triage = getattr(post, "triage", None) if post else None
        touched = False
        if triage is not None and triage.category != SPAM:
            feedback.do_correct_triage(post, "category", SPAM, actor, "marked as spam")
            case.refresh_from_db()
            touched = True
        if SPAM not in (case.tags or []):
            do_change_tags(case, actor, add=[SPAM])
            touched = True
        if case.status != Case.Status.CLOSED:
            do_set_status(case, Case.Status.CLOSED, actor)
            touched = True
        changed += touched
    return changed


def do_bulk(action: str, cases: list[Case], actor: User, assignee: User | None = None,
            tag: str = "") -> int:
    """One of ACTIONS on every case (checked by check_cases); how many changed."""
    if action == "assign_me":
        return do_bulk_assign(cases, actor, actor)
    if action == "assign":
        if assignee is None:
            raise ActionError("Choose who gets the cases.")
        return do_bulk_assign(cases, assignee, actor)
    if action == "tag":
        return do_bulk_tag(cases, tag, actor)
    if action == "resolve":
        return do_bulk_resolve(cases, actor)
    if action == "spam":
        return do_bulk_mark_spam(cases, actor)
    raise ActionError(f"{action[:40]!r} is not a bulk action: use {', '.join(ACTIONS)}.")
