"""What follows a response: the customer's expected action, by when, and what the
desk does when it does not come (remind the assignee, or re-open the case); and
the check-back after a case is resolved."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from socialdesk.accounts.models import User
from socialdesk.audit.actions import do_record
from socialdesk.audit.models import Event
from socialdesk.cases.actions import ActionError, do_set_status
from socialdesk.cases.models import Case, FollowUp, Reply
from socialdesk.notifications.actions import do_notify
from socialdesk.routing.actions import mark_acted
from socialdesk.routing.assign import escalation_chain

MAX_WITHIN = timedelta(days=90)
ACTION_MAX_CHARS = 200
DONE = (Case.Status.RESOLVED, Case.Status.CLOSED)


@dataclass(frozen=True)
class FollowUpSpec:
    """What a reply asks of the customer: `action` within `within` of its delivery."""

    action: str
    within: timedelta
    on_expiry: str = FollowUp.OnExpiry.REMIND

    def check(self) -> None:
        _check(self.action, self.on_expiry)
        if not timedelta(0) < self.within <= MAX_WITHIN:
            raise ActionError(f"A follow-up is due within {MAX_WITHIN.days} days, and after "
                              "some time, not none.")

    def as_data(self) -> dict:
        return {"action": self.action.strip(), "within_seconds": int(self.within.total_seconds()),
                "on_expiry": self.on_expiry}

    @classmethod
    def from_data(cls, data: dict) -> "FollowUpSpec":
        return cls(data["action"], timedelta(seconds=data["within_seconds"]), data["on_expiry"])


def _check(action: str, on_expiry: str) -> None:
    if not action.strip():
        raise ActionError("Say what should happen by then (e.g. DM us their order number).")
    if len(action.strip()) > ACTION_MAX_CHARS:
        raise ActionError(f"A follow-up's action has at most {ACTION_MAX_CHARS} characters.")
    if on_expiry not in FollowUp.OnExpiry.values:
        raise ActionError(f"On expiry the desk can {' or '.join(FollowUp.OnExpiry.values)}, "
                          f"not {on_expiry!r}.")


def spec_for_reply(reply: Reply) -> FollowUpSpec | None:
    """The follow-up the author asked for when submitting the reply: kept on the
    reply; replies stored before it had that field kept it in their submission event."""
    if reply.follow_up:
        data = reply.follow_up
        return FollowUpSpec(data["action"], timedelta(hours=data["hours"]), data["on_expiry"])
    event = (Event.objects.filter(case_id=reply.case_id, data__reply=reply.pk,
                                  verb__in=("reply.queued", "reply.awaiting_approval"))
             .order_by("id").first())
    data = event.data.get("follow_up") if event else None
    return FollowUpSpec.from_data(data) if data else None


@transaction.atomic
def do_add_follow_up(case: Case, actor: User | None, kind: str, action: str, due_at: datetime,
                     on_expiry: str = FollowUp.OnExpiry.REMIND) -> FollowUp:
    if kind not in FollowUp.Kind.values:
        raise ActionError(f"A follow-up is one of {', '.join(FollowUp.Kind.values)}.")
    _check(action, on_expiry)
    follow_up = FollowUp.objects.create(case=case, kind=kind, action=action.strip(),
                                        due_at=due_at, on_expiry=on_expiry, created_by=actor)
    if actor is not None:
        mark_acted(case)
        case.save(update_fields=["reassign_at", "updated_at"])
    do_record("follow_up.added", case=case, actor=actor, follow_up=follow_up.pk, kind=kind,
              action=follow_up.action, due_at=due_at.isoformat(), on_expiry=on_expiry)
    return follow_up


@transaction.atomic
def do_expect_customer(reply: Reply, spec: FollowUpSpec, sent_at: datetime) -> FollowUp | None:
    """The reply went out asking the customer to act: the case waits on them (its
    clocks pause) until they post again or the follow-up expires."""
    case = Case.objects.select_for_update().get(pk=reply.case_id)
    if case.status in DONE:
        return None  # resolved while the reply was on its way: nothing to wait for
    do_set_status(case, Case.Status.PENDING, actor=reply.author, at=sent_at)
    return do_add_follow_up(case, reply.author, FollowUp.Kind.EXPECT_CUSTOMER, spec.action,
                            sent_at + spec.within, spec.on_expiry)


def do_schedule_check_back(case: Case, actor: User, within: timedelta,
                           action: str = "Check back with the customer",
                           on_expiry: str = FollowUp.OnExpiry.REMIND) -> FollowUp:
    if case.status not in DONE:
        raise ActionError("A check-back is scheduled once the case is resolved.")
    if not timedelta(0) < within <= MAX_WITHIN:
        raise ActionError(f"A check-back is due within {MAX_WITHIN.days} days.")
    return do_add_follow_up(case, actor, FollowUp.Kind.CHECK_BACK, action,
                            timezone.now() + within, on_expiry)


def do_meet_follow_ups(case_ids: list[int], at: datetime) -> int:
    """The customer posted on these cases: what we waited for from them has come."""
    waiting = list(FollowUp.objects.filter(case_id__in=case_ids, status=FollowUp.Status.WAITING,
                                           kind=FollowUp.Kind.EXPECT_CUSTOMER)
                   .select_related("case"))
    met = 0
    for follow_up in waiting:
        with transaction.atomic():
            if not _claim(follow_up, FollowUp.Status.MET, at):
                continue
            met += 1
            do_record("follow_up.met", case=follow_up.case, at=at,
                      follow_up=follow_up.pk, action=follow_up.action)
    return met


def do_expire_follow_ups(now: datetime) -> int:
    """Follow-ups past due: each is claimed once, then reminds or re-opens."""
    due = list(FollowUp.objects.filter(status=FollowUp.Status.WAITING, due_at__lte=now)
               .select_related("case__team__supervisor", "case__team__parent", "case__assignee")
               .order_by("due_at", "id"))
    expired = 0
    for follow_up in due:
        with transaction.atomic():
            if not _claim(follow_up, FollowUp.Status.EXPIRED, now):
                continue  # met, cancelled or expired by another clock run meanwhile
            expired += 1
            _expire(follow_up, now)
    return expired


def _claim(follow_up: FollowUp, status: str, at: datetime) -> bool:
    return bool(FollowUp.objects.filter(pk=follow_up.pk, status=FollowUp.Status.WAITING)
                .update(status=status, closed_at=at))


def _expire(follow_up: FollowUp, now: datetime) -> None:
    case = follow_up.case
    reopen = follow_up.on_expiry == FollowUp.OnExpiry.REOPEN
    do_record("follow_up.expired", case=case, at=now, follow_up=follow_up.pk,
              kind=follow_up.kind, action=follow_up.action, on_expiry=follow_up.on_expiry)
    if reopen:
        do_set_status(case, Case.Status.OPEN, actor=None, at=now)
    span = _hours(follow_up.due_at - follow_up.created_at)
    if follow_up.kind == FollowUp.Kind.CHECK_BACK:
        text = f"{case.ref}: time to check back with the customer: {follow_up.action}"
    else:
        text = (f"{case.ref}: the customer has not done what we asked: {follow_up.action} "
                f"(due {span})")
    if reopen:
        text += "; the case is open again."
    people = [case.assignee] if case.assignee else escalation_chain(case.team)[:1]
    do_notify(f"follow_up.{'reopened' if reopen else 'reminder'}", text, people, case=case,
              at=now, data={"follow_up": follow_up.pk, "action": follow_up.action})


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.0f} d"
