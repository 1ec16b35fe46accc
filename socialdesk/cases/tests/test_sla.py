"""SLA clocks: targets in business time, pauses, warnings, breaches and their actions,
platform reply windows, and the in-process clock thread. Every instant is passed in:
nothing here reads the real time."""

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from socialdesk.accounts.models import BusinessCalendar, Team, User
from socialdesk.audit.models import Event
from socialdesk.cases import scheduler
from socialdesk.cases.models import Case, SlaClock, SlaPolicy
from socialdesk.cases.sla import (
    REPLY_WINDOW_WARNING,
    case_sla_status,
    do_evaluate_clocks,
    do_note_inbound,
    do_note_response,
    do_note_status,
    do_start_clocks,
    policy_for,
)
from socialdesk.connectors.channels import channel
from socialdesk.contacts.models import Contact
from socialdesk.notifications.models import Notification

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
FRIDAY_4PM = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
WEEKDAYS_9_TO_5 = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
FIRST, NEXT, RESOLUTION, WINDOW = (SlaClock.Kind.FIRST_RESPONSE, SlaClock.Kind.NEXT_RESPONSE,
                                   SlaClock.Kind.RESOLUTION, SlaClock.Kind.REPLY_WINDOW)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def person(username, team=None, role=User.Role.AGENT):
    user = User.objects.create_user(username=username, role=role)
    if team is not None:
        user.teams.add(team)
    return user


@pytest.fixture
def care(db):
    return Team.objects.create(slug="care", name="Care")


@pytest.fixture
def alice(care):
    return person("alice", care)


def office(team, timezone="UTC", holidays=()):
    team.calendar = BusinessCalendar.objects.create(
        slug=f"office-{team.slug}", name="Office", timezone=timezone, hours=WEEKDAYS_9_TO_5,
        holidays=list(holidays))
    team.save()
    return team


def open_case(team, opened=MONDAY, assignee=None, priority="P2", channel="x", **fields):
    return Case.objects.create(
        status=fields.pop("status", "open" if assignee else "new"), priority=priority,
        decision=fields.pop("decision", "respond"), category="complaint", channel=channel,
        contact=Contact.objects.create(name="carol"), team=team, assignee=assignee,
        subject="my kettle broke", opened_at=opened, last_inbound_at=opened, **fields)


def start(case, minutes=60, private=False, now=None):
    case.visibility_private = private
    do_start_clocks([case], {case.pk: minutes}, now or case.opened_at)
    return case


def clock(case, kind=FIRST) -> SlaClock:
    return SlaClock.objects.filter(case=case, kind=kind).latest("id")


def policy(name, position=0, **fields):
    return SlaPolicy.objects.create(name=name, position=position, **fields)


def notified(verb):
    return sorted((n.user.username, n.text) for n in Notification.objects.filter(verb=verb))


# -- which policy ----------------------------------------------------------------------------


def test_the_first_enabled_policy_by_position_whose_lists_match_applies(care):
    pr = Team.objects.create(slug="pr", name="PR")
    policies = [
        policy("catch-all", position=9),
        policy("meta", position=2, channels=["facebook", "instagram"]),
        policy("vip-care", position=1, priorities=["P0", "P1"], teams=["care"]),
        policy("switched-off", position=0, enabled=False),
    ]

    def applies(team, priority, channel):
        found = policy_for(Case(team=team, priority=priority, channel=channel), policies)
        return found.name if found else None

    assert applies(care, "P1", "x") == "vip-care"
    assert applies(care, "P1", "facebook") == "vip-care"  # earlier position wins
    assert applies(care, "P2", "facebook") == "meta"
    assert applies(pr, "P1", "instagram") == "meta"
    assert applies(pr, "P1", "x") == "catch-all"
    assert applies(None, "P3", "email") == "catch-all"
    assert policy_for(Case(team=care, priority="P3", channel="x"), policies[1:]) is None


def test_a_matching_policy_sets_the_targets_and_the_matrix_fills_in_otherwise(care):
    policy("vip", priorities=["P1"], first_response_minutes=30, resolution_minutes=480,
           warn_at_percent=50)
    vip = start(open_case(care, priority="P1"), minutes=60)
    plain = start(open_case(care, priority="P3"), minutes=240)
    unanswerable = start(open_case(care, priority="P3"), minutes=None)

    first = clock(vip)
    assert (first.policy, first.target_seconds, first.due_at, first.warn_at) == (
        "vip", 1800, MONDAY + timedelta(minutes=30), MONDAY + timedelta(minutes=15))
    assert clock(vip, RESOLUTION).due_at == MONDAY + timedelta(hours=8)
    assert (clock(plain).policy, clock(plain).due_at, clock(plain).warn_at) == (
        "", MONDAY + timedelta(hours=4), MONDAY + timedelta(hours=3))
    assert not SlaClock.objects.filter(case=plain, kind=RESOLUTION).exists()
    assert not SlaClock.objects.filter(case=unanswerable).exists()
    vip.refresh_from_db()
    assert vip.first_response_due == MONDAY + timedelta(minutes=30)


def test_only_cases_that_need_a_response_get_clocks(care):
    watched = start(open_case(care, decision="monitor"))
    hidden = start(open_case(care, decision="hide", status="closed"))
    assert not SlaClock.objects.filter(case__in=[watched, hidden]).exists()


def test_clocks_start_in_bulk_with_a_fixed_number_of_queries(care, django_assert_max_num_queries):
    office(care)
    pr = office(Team.objects.create(slug="pr", name="PR"))
    policy("all", first_response_minutes=60, resolution_minutes=600)
    cases = [open_case(care if i % 2 else pr, opened=MONDAY + timedelta(minutes=i))
             for i in range(60)]
    for case in cases:
        case.visibility_private = False
    # Policies, two calendars, the clock insert, the due update, and savepoints.
    with django_assert_max_num_queries(7):
        do_start_clocks(cases, {}, MONDAY)
    assert SlaClock.objects.count() == 120


# -- business time ---------------------------------------------------------------------------


def test_a_target_started_friday_afternoon_falls_due_on_monday_not_saturday(care):
    case = start(open_case(office(care), opened=FRIDAY_4PM), minutes=120)
    first = clock(case)
    assert first.due_at == utc(2026, 11, 23, 10)
    assert first.warn_at == utc(2026, 11, 23, 9, 30)  # 75% of two business hours
    case.refresh_from_db()
    assert case.first_response_due == utc(2026, 11, 23, 10)


def test_a_holiday_does_not_count(care):
    # Thursday 24 December 16:00, Christmas Day a holiday: one hour on Thursday, one on Monday.
    team = office(care, holidays=["2026-12-25"])
    case = start(open_case(team, opened=utc(2026, 12, 24, 16)), minutes=120)
    assert clock(case).due_at == utc(2026, 12, 28, 10)


@pytest.mark.parametrize("opened, due", [
    # Clocks go forward on Sunday 29 March: Friday 16:00 GMT + 2 h → Monday 10:00 BST.
    (datetime(2026, 3, 27, 16, tzinfo=LONDON), utc(2026, 3, 30, 9)),
    # Back on Sunday 25 October: Friday 16:00 BST + 2 h → Monday 10:00 GMT.
    (datetime(2026, 10, 23, 16, tzinfo=LONDON), utc(2026, 10, 26, 10)),
])
def test_a_london_team_counts_its_local_hours_across_the_clock_change(care, opened, due):
    case = start(open_case(office(care, timezone="Europe/London"), opened=opened), minutes=120)
    assert clock(case).due_at == due
    assert clock(case).due_at.astimezone(LONDON).hour == 10


def test_a_team_without_a_calendar_counts_wall_clock_time(care):
    policy("all", resolution_minutes=3 * 24 * 60)
    saturday_night = utc(2026, 11, 21, 23, 30)
    case = start(open_case(care, opened=saturday_night), minutes=60)
    assert clock(case).due_at == saturday_night + timedelta(hours=1)
    assert clock(case, RESOLUTION).due_at == saturday_night + timedelta(days=3)


# -- pending on the customer -----------------------------------------------------------------


def test_pending_pauses_the_clocks_and_resuming_moves_them_by_the_paused_business_time(care):
    case = start(open_case(office(care)), minutes=240)  # Monday 09:00, due 13:00
    do_note_status(case, "open", "pending", utc(2026, 11, 16, 10))
    paused = clock(case)
    assert (paused.state, paused.remaining_seconds) == ("paused", 3 * 3600)

    report = do_evaluate_clocks(utc(2026, 11, 16, 16))  # past the old due time
    assert (report.warned, report.breached) == (0, 0)

    do_note_status(case, "pending", "open", utc(2026, 11, 17, 11))  # Tuesday
    resumed = clock(case)
    assert resumed.state == "active" and resumed.paused_at is None
    assert resumed.due_at == utc(2026, 11, 17, 14)  # three business hours left
    assert resumed.warn_at == utc(2026, 11, 17, 13)  # still three quarters into the target
    assert Event.objects.filter(case=case, verb="sla.resumed").exists()


# -- warnings --------------------------------------------------------------------------------


def test_a_clock_warns_its_assignee_at_75_percent_and_only_once(care, alice):
    case = start(open_case(care, assignee=alice), minutes=60)

    assert do_evaluate_clocks(MONDAY + timedelta(minutes=44)).warned == 0
    assert do_evaluate_clocks(MONDAY + timedelta(minutes=46)).warned == 1
    assert do_evaluate_clocks(MONDAY + timedelta(minutes=50)).warned == 0

    assert notified("sla.warning") == [("alice", f"{case.ref}: first response due in 14 min")]
    event = Event.objects.get(verb="sla.warning")
    assert event.data == {"kind": "first_response", "policy": "",
                          "due_at": (MONDAY + timedelta(hours=1)).isoformat()}
    assert clock(case).warned_at == MONDAY + timedelta(minutes=46)


def test_an_unassigned_case_warns_the_teams_supervisor(care):
    care.supervisor = person("sam", care, role=User.Role.SUPERVISOR)
    care.save()
    start(open_case(care), minutes=60)
    do_evaluate_clocks(MONDAY + timedelta(minutes=45))
    assert [user for user, _ in notified("sla.warning")] == ["sam"]


# -- breaches --------------------------------------------------------------------------------


def breach(case, minutes=60):
    return do_evaluate_clocks(case.opened_at + timedelta(minutes=minutes))


def test_a_breach_marks_the_clock_missed_and_raises_the_priority_one_step(care, alice):
    policy("raise", breach_actions=["raise_priority"])
    case = start(open_case(care, assignee=alice, priority="P2"))
    report = breach(case)

    assert (report.breached, report.actions) == (1, {"raise_priority": 1})
    missed = clock(case)
    assert (missed.state, missed.breached_at) == ("missed", case.opened_at + timedelta(hours=1))
    case.refresh_from_db()
    assert case.priority == "P1"
    assert Event.objects.get(verb="sla.breached").data["actions"] == ["raise_priority"]
    assert Event.objects.get(verb="case.priority_raised").data == {
        "before": "P2", "after": "P1", "why": "first response target missed"}
    assert breach(case, minutes=90).breached == 0  # claimed once


def test_the_priority_never_goes_above_p0(care):
    policy("raise", breach_actions=["raise_priority"])
    case = start(open_case(care, priority="P0"))
    assert breach(case).actions == {}
    case.refresh_from_db()
    assert case.priority == "P0"


def test_a_breach_notifies_the_supervisor(care, alice):
    policy("tell", breach_actions=["notify_supervisor"])
    care.supervisor = person("sam", care, role=User.Role.SUPERVISOR)
    care.save()
    case = start(open_case(care, assignee=alice))
    breach(case)
    assert notified("sla.breached") == [
        ("sam", f"{case.ref}: first response target missed (P2, care, alice)")]


def test_without_a_policy_a_breach_tells_the_supervisor_or_else_the_admins(care):
    person("ada", role=User.Role.ADMIN)
    case = start(open_case(care))
    assert breach(case).actions == {"notify_supervisor": 1}
    assert [user for user, _ in notified("sla.breached")] == ["ada"]


def test_a_breach_reassigns_the_case_to_another_agent(care, alice):
    policy("move", breach_actions=["reassign"])
    bob = person("bob", care)
    case = start(open_case(care, assignee=alice))
    assert breach(case).actions == {"reassign": 1}
    case.refresh_from_db()
    assert case.assignee == bob
    event = Event.objects.get(verb="case.reassigned")
    assert (event.data["before"], event.data["assignee"]) == ("alice", "bob")
    assert event.data["why"].startswith("first response target missed; ")
    assert [user for user, _ in notified("case.reassigned")] == ["bob"]


def test_a_breach_with_nobody_else_to_take_the_case_leaves_it_and_says_why(care, alice):
    policy("move", breach_actions=["reassign"])
    case = start(open_case(care, assignee=alice))
    assert breach(case).actions == {}
    case.refresh_from_db()
    assert case.assignee == alice
    assert "nobody in care is online" in Event.objects.get(verb="case.not_reassigned").data["why"]


def test_a_breach_escalates_to_the_parent_team_and_tells_its_chain(care, alice):
    policy("up", breach_actions=["escalate"])
    pr = Team.objects.create(slug="pr", name="PR", supervisor=person("pat", role="supervisor"))
    care.parent = pr
    care.save()
    pia = person("pia", pr)
    case = start(open_case(care, assignee=alice))
    assert breach(case).actions == {"escalate": 1}
    case.refresh_from_db()
    assert (case.team, case.assignee) == (pr, pia)
    assert Event.objects.get(verb="case.escalated").data["why"] == "first response target missed"
    assert [user for user, _ in notified("case.escalated")] == ["pat"]


def test_breach_actions_run_in_the_policys_order(care, alice):
    policy("all", breach_actions=["raise_priority", "notify_supervisor", "reassign"])
    care.supervisor = person("sam", care, role=User.Role.SUPERVISOR)
    care.save()
    case = start(open_case(care, assignee=alice, priority="P3"))
    breach(case)
    verbs = list(Event.objects.filter(case=case).values_list("verb", flat=True))
    assert verbs[-3:] == ["sla.breached", "case.priority_raised", "case.reassigned"]
    # The supervisor hears of the case at its raised priority.
    assert notified("sla.breached")[0][1].endswith("(P2, care, alice)")


# -- our responses ---------------------------------------------------------------------------


def test_a_response_before_the_due_time_hits_and_after_it_misses(care):
    on_time = start(open_case(care))
    late = start(open_case(care))
    do_note_response(on_time, MONDAY + timedelta(minutes=59))
    do_note_response(late, MONDAY + timedelta(minutes=61))
    assert (clock(on_time).state, clock(late).state) == ("hit", "missed")
    assert clock(late).stopped_at == MONDAY + timedelta(minutes=61)
    assert do_evaluate_clocks(MONDAY + timedelta(hours=2)).breached == 0


def test_a_clock_that_already_breached_stays_missed_when_we_answer(care):
    case = start(open_case(care))
    breach(case)
    do_note_response(case, MONDAY + timedelta(minutes=70))
    missed = clock(case)
    assert (missed.state, missed.stopped_at) == ("missed", MONDAY + timedelta(minutes=70))


def test_a_customer_post_after_our_first_response_starts_a_next_response_clock(care):
    policy("care", next_response_minutes=30)
    case = start(open_case(care))
    do_note_inbound([(case.pk, MONDAY + timedelta(minutes=5), False)], MONDAY)
    assert not SlaClock.objects.filter(kind=NEXT).exists()  # not answered yet

    answered = MONDAY + timedelta(minutes=20)
    Case.objects.filter(pk=case.pk).update(first_response_at=answered, status="open")
    do_note_response(case, answered)
    posted = MONDAY + timedelta(hours=1)
    do_note_inbound([(case.pk, posted, False),
                     (case.pk, posted + timedelta(minutes=5), False)], posted)
    next_response = SlaClock.objects.get(kind=NEXT)
    assert (next_response.started_at, next_response.due_at) == (
        posted, posted + timedelta(minutes=30))

    do_note_response(case, posted + timedelta(minutes=10))
    assert clock(case, NEXT).state == "hit"


def test_resolving_stops_the_resolution_clock_and_reopening_starts_another(care):
    policy("care", resolution_minutes=600)
    case = start(open_case(care))
    resolved_at = MONDAY + timedelta(hours=2)
    do_note_status(case, "open", "resolved", resolved_at)
    assert (clock(case, RESOLUTION).state, clock(case).state) == ("hit", "closed")

    reopened = MONDAY + timedelta(days=1)
    do_note_status(case, "resolved", "open", reopened)
    again = clock(case, RESOLUTION)
    assert (again.state, again.started_at, again.due_at) == (
        "active", reopened, reopened + timedelta(hours=10))


# -- platform reply windows ------------------------------------------------------------------


def test_metas_private_messages_carry_a_24_hour_reply_window():
    assert channel("facebook").reply_window == channel("instagram").reply_window \
        == timedelta(hours=24)
    assert REPLY_WINDOW_WARNING == timedelta(hours=4)


def test_a_private_message_opens_a_reply_window_in_wall_clock_time(care):
    case = start(open_case(office(care), opened=FRIDAY_4PM, channel="facebook"), private=True)
    window = clock(case, WINDOW)
    # Saturday: the platform's window ignores the team's hours.
    assert (window.due_at, window.warn_at) == (utc(2026, 11, 21, 16), utc(2026, 11, 21, 12))
    assert window.target_seconds == 24 * 3600 and window.policy == ""
    public = start(open_case(care, channel="facebook"))
    assert not SlaClock.objects.filter(case=public, kind=WINDOW).exists()


def test_an_unanswered_reply_window_warns_then_closes_without_breach_actions(care, alice):
    policy("all", breach_actions=["raise_priority", "escalate"])
    case = start(open_case(care, channel="instagram", assignee=alice), minutes=None,
                 private=True)

    report = do_evaluate_clocks(utc(2026, 11, 17, 5))
    assert (report.windows_closing, report.warned) == (1, 0)
    assert notified("sla.window_closing") == [
        ("alice", f"{case.ref}: the instagram reply window closes in 4 h")]

    report = do_evaluate_clocks(utc(2026, 11, 17, 9))
    assert (report.windows_closed, report.breached, report.actions) == (1, 0, {})
    assert clock(case, WINDOW).state == "closed"
    assert Event.objects.filter(verb="sla.window_closed").count() == 1
    assert not Event.objects.filter(verb__in=["sla.breached", "case.priority_raised"]).exists()


def test_a_new_private_message_restarts_the_reply_window(care):
    case = start(open_case(care, channel="facebook"), minutes=None, private=True)
    later = MONDAY + timedelta(hours=11)
    do_note_inbound([(case.pk, MONDAY + timedelta(hours=10), True), (case.pk, later, True),
                     (case.pk, later, False)], later)
    windows = list(SlaClock.objects.filter(case=case, kind=WINDOW).order_by("id"))
    assert [(w.state, w.started_at) for w in windows] == [
        ("closed", MONDAY), ("active", later)]
    assert windows[1].due_at == later + timedelta(hours=24)
    assert windows[0].stopped_at == MONDAY + timedelta(hours=10)


def test_our_reply_closes_the_reply_window(care):
    case = start(open_case(care, channel="facebook"), minutes=None, private=True)
    do_note_response(case, MONDAY + timedelta(hours=1))
    closed = clock(case, WINDOW)
    assert (closed.state, closed.stopped_at) == ("closed", MONDAY + timedelta(hours=1))
    assert do_evaluate_clocks(utc(2026, 11, 17, 9)).windows_closed == 0


# -- history ---------------------------------------------------------------------------------


def test_an_imported_case_already_past_due_is_missed_at_once_without_telling_anyone(care):
    policy("all", resolution_minutes=600, breach_actions=["raise_priority"])
    care.supervisor = person("sam", care, role=User.Role.SUPERVISOR)
    care.save()
    opened = utc(2026, 11, 1, 9)
    case = start(open_case(care, opened=opened, channel="facebook"), private=True, now=MONDAY)

    clocks = {c.kind: c for c in SlaClock.objects.filter(case=case)}
    assert (clocks[FIRST].state, clocks[FIRST].breached_at) == ("missed", opened +
                                                               timedelta(hours=1))
    assert clocks[RESOLUTION].state == "missed" and clocks[WINDOW].state == "closed"
    report = do_evaluate_clocks(MONDAY)
    assert (report.warned, report.breached, report.windows_closed) == (0, 0, 0)
    assert not Notification.objects.exists()
    assert list(Event.objects.values_list("verb", flat=True)) == ["sla.missed_on_arrival"]
    case.refresh_from_db()
    assert case.priority == "P2"


def test_an_answer_imported_with_its_case_stops_the_first_response_clock(care):
    case = open_case(care, opened=utc(2026, 11, 1, 9))
    case.first_response_at = utc(2026, 11, 1, 9, 30)
    start(case, now=MONDAY)
    assert (clock(case).state, clock(case).stopped_at) == ("hit", utc(2026, 11, 1, 9, 30))


def test_an_imported_answer_decides_by_its_own_time_even_after_the_case_arrived_missed(care):
    on_time = start(open_case(care, opened=utc(2026, 11, 1, 9)), now=MONDAY)
    late = start(open_case(care, opened=utc(2026, 11, 1, 9)), now=MONDAY)
    # The pipeline passes its own rows for cases it opened in the same batch.
    do_note_response(SimpleNamespace(pk=on_time.pk), utc(2026, 11, 1, 9, 30))
    do_note_response(SimpleNamespace(pk=late.pk), utc(2026, 11, 1, 11))
    assert (clock(on_time).state, clock(on_time).breached_at) == ("hit", None)
    assert (clock(late).state, clock(late).breached_at) == ("missed", utc(2026, 11, 1, 10))
    assert Event.objects.get(verb="sla.hit").case_id == on_time.pk


# -- the case's summary ----------------------------------------------------------------------


@pytest.mark.parametrize("states, status", [
    (["hit", "missed", "active"], "missed"),
    (["hit", "paused"], "active"),
    (["active"], "active"),
    (["hit", "closed"], "hit"),
    (["closed"], ""),
    ([], ""),
])
def test_a_cases_sla_status_sums_up_its_clocks(states, status):
    assert case_sla_status([SlaClock(state=state) for state in states]) == status


# -- the clock thread ------------------------------------------------------------------------


def test_the_clock_thread_calls_its_function_every_interval_and_stops_promptly(monkeypatch):
    closed = []
    monkeypatch.setattr(scheduler.connections, "close_all", lambda: closed.append(1))
    calls, enough = [], threading.Event()

    def tick():
        calls.append(1)
        if len(calls) >= 3:
            enough.set()

    thread = scheduler.ClockThread(tick, interval=0.01)
    thread.start()
    assert enough.wait(5)
    thread.stop()
    thread.join(1)
    assert not thread.is_alive() and thread.daemon
    assert len(closed) >= 3  # database connections closed after each run


def test_the_clock_thread_survives_a_failing_run(monkeypatch, caplog):
    monkeypatch.setattr(scheduler.connections, "close_all", lambda: None)
    calls, enough = [], threading.Event()

    def tick():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        enough.set()

    thread = scheduler.ClockThread(tick, interval=0.01)
    thread.start()
    assert enough.wait(5)
    thread.stop()
    thread.join(1)
    assert "database is locked" in caplog.text


def test_the_clock_thread_waits_its_interval_and_stop_cuts_the_wait_short():
    calls = []
    thread = scheduler.ClockThread(lambda: calls.append(1), interval=60)
    thread.start()
    thread.stop()
    thread.join(2)
    assert not thread.is_alive() and len(calls) <= 1


def test_the_clock_interval_comes_from_the_settings(settings):
    settings.CLOCK_INTERVAL_SECONDS = 7
    assert scheduler.ClockThread(lambda: None).interval == 7
    del settings.CLOCK_INTERVAL_SECONDS
    assert scheduler.ClockThread(lambda: None).interval == 30


def test_a_failing_breach_action_is_recorded_and_the_other_cases_still_get_theirs(
        care, alice, monkeypatch):
    from socialdesk.cases import sla

    policy("up", breach_actions=["escalate", "raise_priority"])
    first, second = start(open_case(care, assignee=alice)), start(open_case(care))

    def escalate(case, why, now):
        if case.pk == first.pk:
            raise RuntimeError("no parent team configured")
        return None

    monkeypatch.setattr(sla.tick, "do_escalate", escalate)
    report = do_evaluate_clocks(MONDAY + timedelta(hours=1))
    assert (report.breached, report.actions) == (2, {"escalate": 1, "raise_priority": 1})
    failed = Event.objects.get(verb="sla.action_failed")
    assert (failed.case_id, failed.data) == (first.pk, {
        "action": "escalate", "error": "RuntimeError: no parent team configured"})
    assert Case.objects.get(pk=second.pk).priority == "P1"
    assert Case.objects.get(pk=first.pk).priority == "P2"  # its later actions did not run


# -- the case's earliest due time (what the inbox sorts on) ------------------------------------


def due_of(case):
    return Case.objects.get(pk=case.pk).sla_due_at


def test_the_case_keeps_the_earliest_due_time_of_the_clocks_that_still_count(care):
    policy("all", first_response_minutes=60, resolution_minutes=480, next_response_minutes=30)
    case = start(open_case(care))
    assert due_of(case) == MONDAY + timedelta(hours=1)  # first response before resolution

    do_note_response(case, MONDAY + timedelta(minutes=20))
    Case.objects.filter(pk=case.pk).update(first_response_at=MONDAY + timedelta(minutes=20))
    assert due_of(case) == MONDAY + timedelta(hours=8)  # answered: resolution is next

    do_note_inbound([(case.pk, MONDAY + timedelta(hours=2), False)], MONDAY + timedelta(hours=2))
    assert due_of(case) == MONDAY + timedelta(hours=2, minutes=30)  # the customer wrote again

    do_note_status(case, "open", "pending", MONDAY + timedelta(hours=2, minutes=10))
    assert due_of(case) is None  # paused clocks count down to nothing
    do_note_status(case, "pending", "open", MONDAY + timedelta(hours=3))
    assert due_of(case) == MONDAY + timedelta(hours=3, minutes=20)  # 20 minutes were left

    do_note_status(case, "open", "resolved", MONDAY + timedelta(hours=4))
    assert due_of(case) is None


def test_a_missed_response_target_keeps_the_case_overdue_until_it_is_answered(care):
    case = start(open_case(care), minutes=60)
    do_evaluate_clocks(MONDAY + timedelta(hours=2))
    assert clock(case).state == SlaClock.State.MISSED
    assert due_of(case) == MONDAY + timedelta(hours=1)
    do_note_response(case, MONDAY + timedelta(hours=3))
    assert due_of(case) is None


def test_a_closing_reply_window_leaves_the_case_due_time(care):
    case = start(open_case(care, channel="facebook"), minutes=None, private=True)
    assert due_of(case) == MONDAY + timedelta(hours=24)
    do_evaluate_clocks(MONDAY + timedelta(hours=25))
    assert due_of(case) is None


def test_cases_the_pipeline_opens_carry_their_due_time(feed):
    from conftest import post

    feed(post("1", "my kettle stopped working after a week, really disappointed"))
    case = Case.objects.get()
    assert case.first_response_due is not None
    assert case.sla_due_at == min(c.due_at for c in SlaClock.objects.filter(case=case))
