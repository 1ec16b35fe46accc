"""Notes on a case: @mentions tell colleagues; a call or an e-mail is a step taken."""

import pytest

from conftest import make_user
from socialdesk.audit.models import Event
from socialdesk.cases.actions import ActionError
from socialdesk.cases.models import Case
from socialdesk.cases.notes import do_add_note
from socialdesk.cases.tests.cases_helpers import make_case
from socialdesk.notifications.models import Notification


@pytest.fixture
def case(teams, agent):
    return make_case(teams["care"], assignee=agent, reply_mode="acknowledge_then_private")


def test_a_note_mentions_colleagues_and_tells_them(case, agent, teammate, outsider):
    note = do_add_note(case, agent, "@bob can you check the warranty? @nobody @mallory, "
                                    "mail carol@example.com")
    assert list(note.mentions.all()) == [teammate]
    told = Notification.objects.get(verb="note.mention")
    assert told.user == teammate and told.case == case
    assert told.text.startswith(f"alice mentioned you on {case.ref}: @bob can you")
    event = Event.objects.get(verb="note.added")
    assert (event.actor, event.data["kind"], event.data["mentions"]) == (agent, "note", ["bob"])


def test_a_mention_at_the_end_of_a_sentence_counts(case, agent, teammate):
    note = do_add_note(case, agent, "Over to you, @bob.")
    assert list(note.mentions.all()) == [teammate]


def test_mentioning_yourself_or_an_inactive_user_tells_nobody(case, agent, teams):
    gone = make_user("gus", teams=[teams["care"]])
    gone.is_active = False
    gone.save()
    do_add_note(case, agent, "@alice @gus reminder")
    assert not Notification.objects.exists()


def test_a_phone_call_noted_completes_the_private_step(case, agent):
    do_add_note(case, agent, "Called Carol, replacement agreed.", kind="phone")
    case.refresh_from_db()
    assert [(s["step"], bool(s["done_at"]), s["via"]) for s in case.steps] == [
        ("acknowledge_publicly", False, ""), ("continue_privately", True, "phone call")]


def test_an_email_noted_completes_a_private_reply_step(teams, agent):
    case = make_case(teams["care"], assignee=agent, reply_mode="private")
    do_add_note(case, agent, "Sent the refund form by e-mail.", kind="email")
    case.refresh_from_db()
    assert case.steps[0]["via"] == "e-mail"


def test_a_plain_note_completes_no_step(case, agent):
    do_add_note(case, agent, "Waiting on the warehouse.")
    case.refresh_from_db()
    assert not any(s["done_at"] for s in case.steps)


def test_a_note_counts_as_the_assignee_acting(case, agent):
    Case.objects.filter(pk=case.pk).update(reassign_at=case.opened_at)
    case.refresh_from_db()
    do_add_note(case, agent, "Looking into it.")
    case.refresh_from_db()
    assert case.reassign_at is None


@pytest.mark.parametrize("text, kind, message", [
    ("  ", "note", "empty"), ("hi", "fax", "not 'fax'"), ("x" * 10_001, "note", "at most")])
def test_a_note_must_make_sense(case, agent, text, kind, message):
    with pytest.raises(ActionError, match=message):
        do_add_note(case, agent, text, kind)
