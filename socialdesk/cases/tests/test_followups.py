"""What follows a response: waiting on the customer, reminders, re-opening, check-backs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from socialdesk.accounts.models import Team
from socialdesk.audit.models import Event
from socialdesk.cases.actions import ActionError, do_set_status, do_submit_reply
from socialdesk.cases.followups import (
    FollowUpSpec,
    do_add_follow_up,
    do_expire_follow_ups,
    do_meet_follow_ups,
    do_schedule_check_back,
)
from socialdesk.cases.models import Case, FollowUp
from socialdesk.cases.tests.cases_helpers import make_case
from socialdesk.notifications.models import Notification

ASK = "Sorry about that! Please DM us your order number so we can fix it."
DAY = timedelta(hours=24)


@pytest.fixture
def case(teams, agent):
    return make_case(teams["care"], assignee=agent)


def waiting_on(case, agent, capture, on_expiry="remind") -> FollowUp:
    spec = FollowUpSpec("DM us their order number", DAY, on_expiry)
    with capture(execute=True):
        do_submit_reply(case, agent, ASK, "public", follow_up=spec)
    return FollowUp.objects.get(case=case)


def test_a_reply_with_a_follow_up_puts_the_case_on_the_customer_once_sent(
        case, agent, django_capture_on_commit_callbacks):
    follow_up = waiting_on(case, agent, django_capture_on_commit_callbacks)
    case.refresh_from_db()
    reply = case.replies.get()
    assert case.status == Case.Status.PENDING
    assert (follow_up.kind, follow_up.status, follow_up.action) == (
        "expect_customer", "waiting", "DM us their order number")
    assert follow_up.due_at == reply.sent_at + DAY
    assert follow_up.created_by == agent
    verbs = list(Event.objects.filter(case=case).values_list("verb", flat=True))
    assert verbs[-2:] == ["case.status_changed", "follow_up.added"]


def test_a_follow_up_waits_for_approval_and_delivery(
        teams, agent, admin_user, django_capture_on_commit_callbacks):
    from socialdesk.cases.approvals import do_approve_reply

    case = make_case(teams["care"], assignee=agent, approval_by="legal")
    reply = do_submit_reply(case, agent, ASK, "public",
                            follow_up=FollowUpSpec("DM us their order number", DAY))
    assert not FollowUp.objects.exists()
    assert reply.follow_up == {"action": "DM us their order number", "hours": 24,
                               "on_expiry": "remind"}
    # What the reply holds is what is scheduled once it goes out (an approver may have
    # been asked for a longer wait).
    reply.follow_up["hours"] = 48
    reply.save(update_fields=["follow_up"])
    with django_capture_on_commit_callbacks(execute=True):
        do_approve_reply(reply, admin_user)
    follow_up = FollowUp.objects.get()
    reply.refresh_from_db()
    assert follow_up.status == FollowUp.Status.WAITING
    assert follow_up.due_at == reply.sent_at + timedelta(hours=48)


def test_the_customers_next_post_meets_the_follow_up(
        case, agent, django_capture_on_commit_callbacks):
    follow_up = waiting_on(case, agent, django_capture_on_commit_callbacks)
    assert do_meet_follow_ups([case.pk], timezone.now()) == 1
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.MET and follow_up.closed_at
    assert Event.objects.get(verb="follow_up.met").data["follow_up"] == follow_up.pk
    assert do_meet_follow_ups([case.pk], timezone.now()) == 0


def test_an_expired_follow_up_reminds_the_assignee(
        case, agent, django_capture_on_commit_callbacks):
    follow_up = waiting_on(case, agent, django_capture_on_commit_callbacks)
    assert do_expire_follow_ups(follow_up.due_at - timedelta(minutes=1)) == 0
    assert do_expire_follow_ups(follow_up.due_at + timedelta(minutes=1)) == 1
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.EXPIRED
    reminder = Notification.objects.get(verb="follow_up.reminder")
    assert reminder.user == agent
    assert reminder.text == (f"{case.ref}: the customer has not done what we asked: "
                             "DM us their order number (due 24 h)")
    case.refresh_from_db()
    assert case.status == Case.Status.PENDING
    assert Event.objects.get(verb="follow_up.expired").data["on_expiry"] == "remind"


def test_an_expired_follow_up_can_reopen_the_case(
        case, agent, django_capture_on_commit_callbacks):
    follow_up = waiting_on(case, agent, django_capture_on_commit_callbacks, on_expiry="reopen")
    do_expire_follow_ups(follow_up.due_at + timedelta(minutes=1))
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN
    reopened = Event.objects.filter(verb="case.status_changed").last()
    assert (reopened.actor, reopened.data) == (None, {"before": "pending", "after": "open"})
    assert "open again" in Notification.objects.get(verb="follow_up.reopened").text


def test_expiring_twice_acts_once(case, agent, django_capture_on_commit_callbacks):
    follow_up = waiting_on(case, agent, django_capture_on_commit_callbacks)
    later = follow_up.due_at + timedelta(minutes=1)
    assert [do_expire_follow_ups(later), do_expire_follow_ups(later)] == [1, 0]
    assert Notification.objects.filter(verb="follow_up.reminder").count() == 1
    assert Event.objects.filter(verb="follow_up.expired").count() == 1


def test_a_follow_up_met_before_the_clock_runs_does_not_expire(
        case, agent, django_capture_on_commit_callbacks):
    follow_up = waiting_on(case, agent, django_capture_on_commit_callbacks)
    do_meet_follow_ups([case.pk], timezone.now())
    assert do_expire_follow_ups(follow_up.due_at + timedelta(hours=1)) == 0
    assert not Notification.objects.filter(verb="follow_up.reminder").exists()


def test_an_unassigned_cases_reminder_goes_to_the_head_of_the_team_chain(
        teams, supervisor):
    Team.objects.filter(pk=teams["care"].pk).update(supervisor=supervisor)
    case = make_case(Team.objects.get(pk=teams["care"].pk))
    now = timezone.now()
    do_add_follow_up(case, None, FollowUp.Kind.EXPECT_CUSTOMER, "Send a photo", now)
    do_expire_follow_ups(now)
    assert Notification.objects.get(verb="follow_up.reminder").user == supervisor


def test_resolving_the_case_cancels_what_we_waited_for(
        case, agent, django_capture_on_commit_callbacks):
    follow_up = waiting_on(case, agent, django_capture_on_commit_callbacks)
    do_set_status(case, Case.Status.RESOLVED, actor=agent)
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.CANCELLED
    assert do_expire_follow_ups(follow_up.due_at + timedelta(hours=1)) == 0


def test_a_check_back_after_resolution_reopens_the_case_when_due(case, agent):
    do_set_status(case, Case.Status.RESOLVED, actor=agent)
    check = do_schedule_check_back(case, agent, timedelta(hours=72),
                                   on_expiry=FollowUp.OnExpiry.REOPEN)
    assert (check.kind, check.action) == ("check_back", "Check back with the customer")
    do_expire_follow_ups(check.due_at + timedelta(seconds=1))
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN and case.resolved_at is None
    assert Notification.objects.get(verb="follow_up.reopened").user == agent


def test_a_check_back_can_just_remind(case, agent):
    do_set_status(case, Case.Status.RESOLVED, actor=agent)
    check = do_schedule_check_back(case, agent, timedelta(hours=1), "Ask if the kettle works")
    do_expire_follow_ups(check.due_at)
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert "Ask if the kettle works" in Notification.objects.get(verb="follow_up.reminder").text


def test_a_check_back_waits_for_the_resolution(case, agent):
    with pytest.raises(ActionError, match="once the case is resolved"):
        do_schedule_check_back(case, agent, timedelta(hours=72))


@pytest.mark.parametrize("spec, message", [
    (FollowUpSpec("", DAY), "Say what should happen"),
    (FollowUpSpec("DM us", timedelta(0)), "after some time"),
    (FollowUpSpec("DM us", DAY, "explode"), "not 'explode'"),
])
def test_a_follow_up_must_make_sense(case, agent, spec, message):
    with pytest.raises(ActionError, match=message):
        do_submit_reply(case, agent, ASK, "public", follow_up=spec)
