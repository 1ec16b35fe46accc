"""One tick of the clock does everything that is due, once."""

from datetime import timedelta

from conftest import make_user
from socialdesk.audit.models import Event
from socialdesk.cases.clock import tick
from socialdesk.cases.models import Case, FollowUp, SlaClock
from socialdesk.cases.tests.cases_helpers import OPENED, make_case

NOW = OPENED + timedelta(hours=2)


def test_a_tick_warns_expires_reassigns_and_drains_the_queue_and_a_second_does_nothing(teams):
    care = teams["care"]
    care.reassign_after_minutes = 30
    care.save()
    alice = make_user("alice", teams=[care])
    bob = make_user("bob", teams=[care])

    warned = make_case(care, handle="warned", assignee=alice)
    SlaClock.objects.create(case=warned, kind="first_response", target_seconds=3 * 3600,
                            started_at=OPENED, due_at=OPENED + timedelta(hours=3),
                            warn_at=NOW - timedelta(minutes=5))
    waiting = make_case(care, handle="waiting", assignee=alice, status=Case.Status.PENDING)
    FollowUp.objects.create(case=waiting, kind="expect_customer", action="DM your order number",
                            due_at=NOW - timedelta(minutes=1), on_expiry="reopen")
    quiet = make_case(care, handle="quiet", assignee=alice)
    Case.objects.filter(pk=quiet.pk).update(reassign_at=NOW - timedelta(minutes=1))
    queued = make_case(care, handle="queued", status=Case.Status.NEW)

    done = tick(NOW)
    assert (done["warned"], done["follow_ups_expired"], done["reassigned"]) == (1, 1, 1)
    assert done["assigned_from_queue"] == 1
    assert Event.objects.filter(verb="sla.warning", case=warned).count() == 1
    waiting.refresh_from_db()
    quiet.refresh_from_db()
    queued.refresh_from_db()
    assert waiting.status == Case.Status.OPEN
    assert quiet.assignee == bob
    assert queued.assignee is not None

    again = tick(NOW)
    assert (again["warned"], again["follow_ups_expired"], again["reassigned"],
            again["assigned_from_queue"]) == (0, 0, 0, 0)
