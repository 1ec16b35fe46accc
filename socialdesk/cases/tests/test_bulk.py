"""Bulk actions: every id checked first, each change made by the single-case action,
all of them or none."""

import pytest

from conftest import post
from socialdesk.audit.models import Event
from socialdesk.cases import bulk
from socialdesk.cases.actions import ActionError, NotPermitted
from socialdesk.cases.models import Case
from socialdesk.cases.tests.cases_helpers import make_case
from socialdesk.triage.feedback import feedback_examples
from socialdesk.triage.models import Correction

COMPLAINT = "my kettle stopped working after a week, really disappointed"


@pytest.fixture
def care_cases(teams):
    return [make_case(teams["care"], handle=f"c{i}", status=Case.Status.NEW) for i in range(3)]


def test_one_case_out_of_reach_refuses_the_lot(agent, care_cases, teams):
    theirs = make_case(teams["comms"], handle="zed")
    with pytest.raises(NotPermitted, match="1 of the 4 selected cases is not yours"):
        bulk.check_cases(agent, [c.pk for c in care_cases] + [theirs.pk])
    with pytest.raises(NotPermitted, match="2 of the 2 selected cases are not yours"):
        bulk.check_cases(agent, [theirs.pk, 987654])
    assert [c.pk for c in bulk.check_cases(agent, [c.pk for c in care_cases])] == \
        [c.pk for c in care_cases]


def test_nothing_selected_or_too_much_is_refused(agent, care_cases):
    with pytest.raises(ActionError, match="Select at least one case"):
        bulk.check_cases(agent, [])
    with pytest.raises(ActionError, match="At most 500"):
        bulk.check_cases(agent, range(1, 502))


def test_assign_to_me_assigns_each_once_and_records_it(agent, care_cases):
    care_cases[0].assignee = agent
    care_cases[0].save()
    cases = bulk.check_cases(agent, [c.pk for c in care_cases])
    assert bulk.do_bulk_assign(cases, agent, agent) == 2
    assert set(Case.objects.values_list("assignee", flat=True)) == {agent.pk}
    statuses = dict(Case.objects.values_list("pk", "status"))
    assert statuses[care_cases[1].pk] == statuses[care_cases[2].pk] == "open"
    assert Event.objects.filter(verb="case.assigned", actor=agent).count() == 2


def test_a_case_that_refuses_the_assignment_rolls_back_the_others(supervisor, teammate,
                                                                   care_cases, teams):
    teams["pr"].supervisor = supervisor
    teams["pr"].save()
    pr_case = make_case(teams["pr"], handle="prq", status=Case.Status.NEW)
    cases = bulk.check_cases(supervisor, [care_cases[0].pk, pr_case.pk])
    with pytest.raises(ActionError, match="bob is not an active member of"):
        bulk.do_bulk_assign(cases, teammate, supervisor)
    assert not Case.objects.filter(assignee__isnull=False).exists()
    assert not Event.objects.filter(verb="case.assigned").exists()


def test_an_agent_may_not_hand_cases_to_a_colleague(agent, teammate, care_cases):
    cases = bulk.check_cases(agent, [c.pk for c in care_cases])
    with pytest.raises(NotPermitted):
        bulk.do_bulk_assign(cases, teammate, agent)
    assert not Case.objects.filter(assignee__isnull=False).exists()


def test_tag_adds_one_lower_case_tag_and_keeps_the_others(agent, care_cases):
    Case.objects.filter(pk=care_cases[0].pk).update(tags=["vip"])
    cases = bulk.check_cases(agent, [c.pk for c in care_cases])
    assert bulk.do_bulk_tag(cases, "  Refund ", agent) == 3
    assert Case.objects.get(pk=care_cases[0].pk).tags == ["vip", "refund"]
    assert Case.objects.get(pk=care_cases[1].pk).tags == ["refund"]
    assert bulk.do_bulk_tag(bulk.check_cases(agent, [care_cases[1].pk]), "refund", agent) == 0


def test_a_bad_tag_changes_nothing(agent, care_cases):
    cases = bulk.check_cases(agent, [c.pk for c in care_cases])
    with pytest.raises(ActionError, match="is not a tag"):
        bulk.do_bulk_tag(cases, "two words", agent)
    assert not Case.objects.exclude(tags=[]).exists()


def test_resolve_resolves_what_is_open(agent, care_cases):
    Case.objects.filter(pk=care_cases[0].pk).update(status="closed")
    cases = bulk.check_cases(agent, [c.pk for c in care_cases])
    assert bulk.do_bulk_resolve(cases, agent) == 2
    statuses = dict(Case.objects.values_list("pk", "status"))
    assert [statuses[c.pk] for c in care_cases] == ["closed", "resolved", "resolved"]
    assert Event.objects.filter(verb="case.status_changed").count() == 2


def test_spam_is_closed_tagged_and_becomes_a_training_label(feed, agent):
    feed(post("1", COMPLAINT), post("2", "any news on this?", in_reply_to="1",
                                    at="2026-11-16T10:00:00+00:00"))
    case = Case.objects.get()
    cases = bulk.check_cases(agent, [case.pk])
    assert bulk.do_bulk_mark_spam(cases, agent) == 1
    case.refresh_from_db()
    assert case.status == "closed" and case.tags == ["spam"] and case.resolved_at
    correction = Correction.objects.get()
    assert (correction.post.external_id, correction.field, correction.value,
            correction.created_by) == ("1", "category", "spam", agent)
    assert (COMPLAINT, "spam") in feedback_examples("category")
    # Again: nothing left to change, no second label.
    assert bulk.do_bulk_mark_spam(bulk.check_cases(agent, [case.pk]), agent) == 0
    assert Correction.objects.count() == 1


def test_an_unknown_action_or_a_missing_assignee_is_refused(agent, care_cases):
    cases = bulk.check_cases(agent, [c.pk for c in care_cases])
    with pytest.raises(ActionError, match="is not a bulk action"):
        bulk.do_bulk("explode", cases, agent)
    with pytest.raises(ActionError, match="Choose who gets the cases"):
        bulk.do_bulk("assign", cases, agent)
    assert bulk.do_bulk("assign_me", cases, agent) == 3
