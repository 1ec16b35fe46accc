"""A brand reply already in the thread, imported or heard from the platform (a
person answered there, not from the desk), completes the step it fulfils, as a
reply sent from the desk does."""

from conftest import post
from socialdesk.audit.models import Event
from socialdesk.cases.models import Case
from socialdesk.cases.steps import steps_for, steps_of

COMPLAINT = "my kettle stopped working after a week, really disappointed"


def steps(case: Case) -> list[tuple[str, bool, str]]:
    case.refresh_from_db()
    return [(s["step"], bool(s["done_at"]), s["via"]) for s in steps_of(case)]


def test_a_brand_reply_imported_later_completes_the_holding_statement(teams, feed):
    feed(post("c1", COMPLAINT))
    case = Case.objects.get()
    # A crisis case: its reply mode is a holding statement.
    Case.objects.filter(pk=case.pk).update(reply_mode="holding_statement",
                                           steps=steps_for("holding_statement"))

    feed(post("b1", "We're aware and looking into it; an update follows within the hour.",
              author="brightkettle", direction="outbound", in_reply_to="c1",
              at="2026-11-16T09:20:00+00:00"))
    assert steps(case) == [("holding_statement", True, "public reply on the platform")]
    case.refresh_from_db()
    assert steps_of(case)[0]["done_at"].startswith("2026-11-16T09:20:00")
    assert Event.objects.filter(verb="case.step_done", case=case,
                                data__step="holding_statement").count() == 1


def test_public_then_private_replies_in_one_import_complete_both_steps(teams, feed):
    feed(post("c1", COMPLAINT),
         post("b1", "So sorry! We'll DM you now.", author="brightkettle",
              direction="outbound", in_reply_to="c1", at="2026-11-16T09:05:00+00:00"),
         post("c2", "it's order BK-12345", visibility="private",
              at="2026-11-16T09:06:00+00:00"),
         post("b2", "Thanks, a replacement is on its way.", author="brightkettle",
              direction="outbound", visibility="private", in_reply_to="c2",
              at="2026-11-16T09:10:00+00:00"))
    case = Case.objects.get()
    assert case.reply_mode == "acknowledge_then_private"
    assert steps(case) == [("acknowledge_publicly", True, "public reply on the platform"),
                           ("continue_privately", True, "private message on the platform")]


def test_a_public_reply_leaves_the_private_step_and_is_counted_once(teams, feed):
    feed(post("c1", COMPLAINT))
    case = Case.objects.get()
    assert steps(case) == [("acknowledge_publicly", False, ""),
                           ("continue_privately", False, "")]

    reply = post("b1", "So sorry to hear that, we'll DM you.", author="brightkettle",
                 direction="outbound", in_reply_to="c1", at="2026-11-16T09:05:00+00:00")
    feed(reply)
    assert steps(case) == [("acknowledge_publicly", True, "public reply on the platform"),
                           ("continue_privately", False, "")]
    feed(reply)  # heard again (a re-import): nothing is done twice
    assert Event.objects.filter(verb="case.step_done", case=case).count() == 1
