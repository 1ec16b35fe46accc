"""Working a case in the browser: the thread with our replies, replies with their
checks, approvals, notes, follow-ups, steps, SLA clocks, the triage explanation, the
history, and who else is on the case."""

from datetime import timedelta

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import escape

from conftest import make_user
from socialdesk.audit.actions import do_record
from socialdesk.cases.actions import do_assign, do_set_status, do_submit_reply
from socialdesk.cases.approvals import do_approve_reply
from socialdesk.cases.followups import FollowUpSpec
from socialdesk.cases.models import Case, FollowUp, Note, Reply, SlaClock
from socialdesk.cases.notes import do_touch_presence
from socialdesk.cases.tests.cases_helpers import add_post, make_case
from socialdesk.web.templatetags.history import event_line

SORRY = "Sorry to hear that, we've sent you a DM."


@pytest.fixture
def case(teams, agent):
    return make_case(teams["care"], assignee=agent, reply_mode="acknowledge_then_private")


@pytest.fixture
def lawyer(teams):
    return make_user("lee", teams=[teams["legal"]])


@pytest.fixture
def legal_case(teams, agent):
    return make_case(teams["care"], assignee=agent, cues=["legal"], approval_by="legal",
                     approval_reason="approval safety-or-legal-needs-legal (cues legal)")


def page(client, case):
    response = client.get(reverse("web:case", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_case_page_shows_steps_notes_follow_ups_and_presence(client, case, agent):
    client.force_login(agent)
    html = page(client, case)
    assert "Pending</strong>: Acknowledge publicly" not in html  # pending is not bold
    assert "Pending: Acknowledge publicly" in html
    assert "Pending: Continue privately" in html
    assert 'id="notes-h"' in html and 'id="follow-ups-h"' in html
    assert reverse("web:presence", args=[case.pk]) in html
    assert 'hx-trigger="load, every 15s"' in html
    assert "Acknowledge publicly, continue privately" in html
    assert "<script" not in html.split("</head>")[1]


def test_a_reply_is_queued_from_the_page(client, case, agent,
                                         django_capture_on_commit_callbacks):
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:reply", args=[case.pk]),
                               {"text": SORRY, "visibility": "public",
                                "follow_up_on_expiry": "remind"})
    assert response.status_code == 302
    assert Reply.objects.get().status == Reply.Status.SENT
    assert "Done</strong>: Acknowledge publicly" in page(client, case)


def test_a_blocked_reply_comes_back_with_the_reason_and_the_text(client, case, agent):
    client.force_login(agent)
    text = "Sorry! Write to carol.smith@gmail.com please."
    response = client.post(reverse("web:reply", args=[case.pk]),
                           {"text": text, "visibility": "public",
                            "follow_up_on_expiry": "remind"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Must change:</strong> The public reply contains an e-mail address" in html
    assert "carol.smith@gmail.com please.</textarea>" in html
    assert not Reply.objects.exists()


def test_a_warning_is_confirmed_with_a_checkbox_then_the_reply_goes(client, case, agent):
    client.force_login(agent)
    data = {"text": "Please DM us your order number.", "visibility": "public",
            "follow_up_on_expiry": "remind"}
    response = client.post(reverse("web:reply", args=[case.pk]), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'name="confirm_warnings" value="no_acknowledgement"' in html
    assert '<label for="confirm-reply-no_acknowledgement"' in html
    response = client.post(reverse("web:reply", args=[case.pk]),
                           {**data, "confirm_warnings": ["no_acknowledgement"]})
    assert response.status_code == 302
    assert Reply.objects.get().confirmed_warnings == ["no_acknowledgement"]


def test_a_reply_can_carry_a_follow_up(client, case, agent, django_capture_on_commit_callbacks):
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("web:reply", args=[case.pk]), {
            "text": SORRY, "visibility": "public", "follow_up_action": "DM their order number",
            "follow_up_hours": "24", "follow_up_on_expiry": "reopen"})
    follow_up = FollowUp.objects.get()
    assert (follow_up.action, follow_up.on_expiry) == ("DM their order number", "reopen")
    case.refresh_from_db()
    assert case.status == Case.Status.PENDING
    assert "DM their order number" in page(client, case)


def test_a_follow_up_needs_both_what_and_when(client, case, agent):
    client.force_login(agent)
    response = client.post(reverse("web:reply", args=[case.pk]), {
        "text": SORRY, "visibility": "public", "follow_up_action": "DM us",
        "follow_up_on_expiry": "remind"})
    assert response.status_code == 422
    assert "Say within how many hours." in response.content.decode()


def test_acknowledge_and_continue_from_the_page(client, case, agent):
    client.force_login(agent)
    response = client.post(reverse("web:acknowledge", args=[case.pk]), {
        "ack-public_text": "Sorry about this! We've sent you a DM.",
        "ack-private_text": "Hi Carol, what's your order number?",
        "ack-follow_up_on_expiry": "remind"})
    assert response.status_code == 302
    assert sorted(Reply.objects.values_list("visibility", flat=True)) == ["private", "public"]


def test_the_second_reply_to_a_post_is_refused_on_the_page(client, case, agent, teammate):
    do_submit_reply(case, agent, SORRY, "public")
    client.force_login(teammate)
    response = client.post(reverse("web:reply", args=[case.pk]),
                           {"text": "So sorry! DM us?", "visibility": "public",
                            "follow_up_on_expiry": "remind"})
    assert response.status_code == 422
    assert "already waiting or sent by alice" in response.content.decode()


def test_an_approver_sees_the_waiting_reply_and_approves_it_with_edits(
        client, legal_case, agent, lawyer, django_capture_on_commit_callbacks):
    reply = do_submit_reply(legal_case, agent, SORRY, "public")
    client.force_login(agent)
    html = page(client, legal_case)
    assert "Awaiting approval</p>" not in html and "Awaiting approval\n" in html
    assert reverse("web:approve_reply", args=[reply.pk]) not in html

    client.force_login(lawyer)
    html = page(client, legal_case)
    assert reverse("web:approve_reply", args=[reply.pk]) in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:approve_reply", args=[reply.pk]),
                               {f"r{reply.pk}-text": "We're sorry. We've sent you a DM."})
    assert response.status_code == 302
    reply.refresh_from_db()
    assert (reply.status, reply.text, reply.reviewed_by) == (
        "sent", "We're sorry. We've sent you a DM.", lawyer)


def test_an_approver_sends_a_reply_back_from_the_approvals_page(
        client, legal_case, agent, lawyer):
    reply = do_submit_reply(legal_case, agent, SORRY, "public")
    client.force_login(lawyer)
    response = client.get(reverse("web:approvals"))
    assert [r["reply"] for r in response.context["rows"]] == [reply]
    response = client.post(reverse("web:return_reply", args=[reply.pk]),
                           {f"r{reply.pk}-comment": "Offer a call instead.",
                            "next": "approvals"})
    assert response.url == reverse("web:approvals")
    reply.refresh_from_db()
    assert (reply.status, reply.review_comment) == ("returned", "Offer a call instead.")
    client.force_login(agent)
    assert "Offer a call instead." in page(client, legal_case)


def test_someone_who_may_not_approve_is_refused(client, legal_case, agent, teammate):
    reply = do_submit_reply(legal_case, agent, SORRY, "public")
    client.force_login(teammate)
    assert client.get(reverse("web:approvals")).context["rows"] == []
    response = client.post(reverse("web:approve_reply", args=[reply.pk]), follow=True)
    assert "Only an approver (legal)" in response.content.decode()
    reply.refresh_from_db()
    assert reply.status == Reply.Status.AWAITING_APPROVAL


def test_a_note_with_a_mention_is_added(client, case, agent, teammate):
    client.force_login(agent)
    response = client.post(reverse("web:note", args=[case.pk]),
                           {"note-text": "@bob can you call her?", "note-kind": "phone"})
    assert response.status_code == 302
    note = Note.objects.get()
    assert (note.kind, list(note.mentions.all())) == ("phone", [teammate])
    html = page(client, case)
    assert "@bob can you call her?" in html and "Done</strong>: Continue privately" in html


def test_a_check_back_is_offered_once_resolved(client, case, agent):
    client.force_login(agent)
    assert reverse("web:check_back", args=[case.pk]) not in page(client, case)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.RESOLVED)
    assert reverse("web:check_back", args=[case.pk]) in page(client, case)
    client.post(reverse("web:check_back", args=[case.pk]),
                {"checkback-action": "Ask if it works", "checkback-hours": "48",
                 "checkback-on_expiry": "reopen"})
    assert FollowUp.objects.get().kind == FollowUp.Kind.CHECK_BACK


def test_the_presence_partial_shows_a_colleague_writing(client, case, agent, teammate):
    do_touch_presence(case, teammate, True, timezone.now())
    client.force_login(agent)
    response = client.post(reverse("web:presence", args=[case.pk]), {"text": ""})
    assert "bob is writing a reply" in response.content.decode()
    client.force_login(teammate)
    response = client.post(reverse("web:presence", args=[case.pk]), {"text": "Hi Car"})
    assert "alice is viewing" in response.content.decode()


def test_a_colleague_who_left_is_not_shown(client, case, agent, teammate):
    do_touch_presence(case, teammate, True, timezone.now() - timedelta(minutes=5))
    client.force_login(agent)
    response = client.post(reverse("web:presence", args=[case.pk]))
    assert "Nobody else has this case open." in response.content.decode()


def test_an_outsider_reaches_none_of_it(client, legal_case, agent, outsider):
    reply = do_submit_reply(legal_case, agent, SORRY, "public")
    client.force_login(outsider)
    for name, arg in (("acknowledge", legal_case.pk), ("note", legal_case.pk),
                      ("check_back", legal_case.pk), ("presence", legal_case.pk),
                      ("approve_reply", reply.pk), ("return_reply", reply.pk)):
        assert client.post(reverse(f"web:{name}", args=[arg])).status_code == 404, name
    assert not Note.objects.exists()


def test_a_legal_team_member_may_open_a_case_that_waits_for_legal(client, legal_case, lawyer,
                                                                   outsider):
    client.force_login(lawyer)
    assert client.get(reverse("web:case", args=[legal_case.pk])).status_code == 200
    client.force_login(outsider)
    assert client.get(reverse("web:case", args=[legal_case.pk])).status_code == 404


def test_the_new_pages_need_a_login(client, case):
    for url in (reverse("web:approvals"), reverse("web:presence", args=[case.pk])):
        response = client.get(url) if url.endswith("approvals/") else client.post(url)
        assert response.status_code == 302 and response.url.startswith(reverse("web:login"))


# -- the thread, the clocks, the explanation and the history -------------------------------


def test_the_thread_shows_every_post_and_our_replies_with_their_state(
        client, case, agent, django_capture_on_commit_callbacks):
    case.posts.update(url="https://x.example/carol/status/1")
    with django_capture_on_commit_callbacks(execute=True):
        do_submit_reply(case, agent, SORRY, "public")
    queued = do_submit_reply(case, agent, "Hi Carol, what's your order number?", "private")
    later = add_post(case, "dm-2", "It is 12345", visibility="private",
                     at=timezone.now() + timedelta(minutes=1))
    failed = Reply.objects.create(case=case, author=agent, in_reply_to=later, visibility="public",
                                  text="Thanks, on it!", status=Reply.Status.FAILED,
                                  last_error="the platform said 503")
    Reply.objects.filter(pk=failed.pk).update(created_at=timezone.now() + timedelta(minutes=2))
    client.force_login(agent)
    html = page(client, case)
    thread = html[html.index('id="thread-h"'):html.index('id="composer"')]
    assert thread.index("my kettle stopped working") < thread.index(escape(SORRY)) \
        < thread.index(escape(queued.text)) < thread.index("It is 12345") \
        < thread.index("Thanks, on it!")
    assert '<span class="reply-status sent">Sent</span>' in thread
    assert "· Queued\n" in thread
    assert "· Not delivered\n" in thread and ": the platform said 503" in thread
    assert ('<a href="https://x.example/carol/status/1" rel="noopener noreferrer" '
            'target="_blank">original') in thread


def test_the_contacts_name_links_to_their_profile(client, case, agent):
    client.force_login(agent)
    html = page(client, case)
    try:
        url = reverse("contacts:profile", args=[case.contact_id])
    except NoReverseMatch:  # no profile pages: the name is plain text, the page still works
        assert ">Carol</a>" not in html and "Carol" in html
    else:
        assert f'<a href="{url}">Carol</a>' in html


def clock(case, kind, state, due_in, **fields) -> SlaClock:
    now = timezone.now()
    return SlaClock.objects.create(case=case, kind=kind, state=state, target_seconds=3600,
                                   started_at=now - timedelta(hours=1),
                                   due_at=now + due_in, **fields)


def test_the_sla_clocks_show_due_times_and_countdowns(client, case, agent):
    running = clock(case, "first_response", "active", timedelta(minutes=42, seconds=30))
    clock(case, "next_response", "paused", timedelta(hours=1), remaining_seconds=1800)
    met = clock(case, "resolution", "hit", timedelta(hours=-2),
                stopped_at=timezone.now() - timedelta(hours=3))
    clock(case, "reply_window", "closed", timedelta(hours=-5))
    client.force_login(agent)
    html = page(client, case)
    sla = html[html.index('id="sla-h"'):html.index('id="properties-h"')]
    due = running.due_at.isoformat()
    assert f'due <time datetime="{due}">' in sla
    assert f'<span class="countdown" data-due="{due}">in 42 min</span>' in sla
    assert "paused while the case waits on the customer; 30 min left when it resumes" in sla
    assert f'met <time datetime="{met.stopped_at.isoformat()}">' in sla
    assert "Platform reply window" not in sla
    assert '<span class="chip">SLA running</span>' in html


def test_a_missed_or_overdue_clock_says_so(client, case, agent):
    clock(case, "first_response", "missed", timedelta(minutes=-30),
          breached_at=timezone.now() - timedelta(minutes=30))
    clock(case, "resolution", "active", timedelta(minutes=-5))
    client.force_login(agent)
    html = page(client, case)
    assert '<strong class="missed-label">missed</strong>' in html
    assert 'class="clock active overdue"' in html and "5 min overdue" in html
    assert '<span class="chip sla-missed">SLA missed</span>' in html


def test_the_triage_is_explained_in_plain_words_and_can_still_be_corrected(
        client, case, agent):
    triage = case.posts.get().triage
    triage.author = {"followers": 12400, "tier": "customer"}
    triage.first_response_minutes = 60
    triage.reasons = ["sentiment negative (fast model: negative 0.99)",
                      "severity S2: high reach (12,400 followers)",
                      "policy rule unhappy-customer (category complaint): respond, P2"]
    triage.save()
    client.force_login(agent)
    html = page(client, case)
    assert ("Complaint, negative, from a customer with 12,400 followers: respond within "
            "1 hour, publicly then privately, because the rule “unhappy-customer” matched "
            "(category complaint); severity S2: high reach (12,400 followers).") in html
    assert reverse("web:correct_triage", args=[case.pk, triage.post_id]) in html
    assert "sentiment negative (fast model: negative 0.99)" in html  # every reason, kept


def test_a_volume_spike_and_the_brand_s_account_are_explained_in_words(client, case, agent):
    triage = case.posts.get().triage
    triage.author = {}
    triage.first_response_minutes = 30
    triage.reasons = ["cue outage: 'down'",
                      "cue volume_spike: 'cue outage: 48 posts in the hour to 14:15 UTC, "
                      "usually 3.2 an hour'",
                      "severity S3: outage, volume_spike cue",
                      "policy rule unhappy-customer (category complaint): respond, P0"]
    triage.save()
    client.force_login(agent)
    html = page(client, case)
    assert ("because the rule “unhappy-customer” matched (category complaint); posts on it are "
            "spiking (&#x27;cue outage: 48 posts in the hour to 14:15 UTC, usually 3.2 an "
            "hour&#x27;); severity S3: outage, volume_spike cue; it mentions &#x27;down&#x27; "
            "(outage).") in html

    triage.reasons = ["severity S2: on the brand's account @kettleco_help",
                      "policy rule unhappy-customer (category complaint): respond, P1"]
    triage.save()
    assert "severity S2: on the brand&#x27;s account @kettleco_help." in page(client, case)


def test_the_history_reads_as_sentences(client, case, agent, teammate, supervisor):
    do_assign(case, teammate, supervisor)
    do_set_status(case, Case.Status.PENDING, teammate)
    do_record("case.merged_somewhere", case=case, actor=agent)
    client.force_login(agent)
    html = page(client, case)
    history = html[html.index('id="events-h"'):]
    assert "sam assigned the case to bob (it was alice&#x27;s)" in history
    assert "bob changed the status from open to pending on customer" in history
    assert "alice: case merged somewhere" in history
    assert "case.assigned" not in history


def test_an_approval_reads_as_who_approved_whose_reply(legal_case, agent, lawyer):
    reply = do_submit_reply(legal_case, agent, SORRY, "public")
    do_approve_reply(reply, lawyer)
    lines = [event_line(e) for e in legal_case.events.select_related("actor").order_by("id")]
    assert lines[-2:] == ["alice wrote a public reply that waits for approval by legal",
                          "alice's reply approved by lee"]


def test_an_event_with_odd_data_still_gets_a_line(case, agent):
    event = do_record("case.tags_changed", case=case, actor=agent, added=5)
    assert event_line(event) == "alice: case tags changed"
    assert event_line(do_record("sla.hit", case=case)) == "SLA target met"


# -- a held reply keeps its follow-up ---------------------------------------------------------


def test_a_reply_waiting_for_approval_keeps_its_follow_up_until_sent(
        client, legal_case, agent, lawyer, django_capture_on_commit_callbacks):
    spec = FollowUpSpec("DM us their order number", timedelta(hours=24), "reopen")
    reply = do_submit_reply(legal_case, agent, SORRY, "public", follow_up=spec)
    reply.refresh_from_db()
    assert reply.follow_up == {"action": "DM us their order number", "hours": 24,
                               "on_expiry": "reopen"}
    client.force_login(lawyer)
    assert ("Once sent: wait 24 h for the customer to DM us their order number; then re-open "
            "the case.") in page(client, legal_case)
    assert not FollowUp.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        do_approve_reply(reply, lawyer)
    reply.refresh_from_db()
    follow_up = FollowUp.objects.get()
    assert (follow_up.action, follow_up.on_expiry, follow_up.due_at) == (
        "DM us their order number", "reopen", reply.sent_at + timedelta(hours=24))


def test_a_reply_that_was_not_delivered_is_sent_again_from_the_page(
        client, case, agent, outbox, django_capture_on_commit_callbacks):
    client.force_login(agent)
    reply = do_submit_reply(case, agent, SORRY, "public")
    Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.FAILED,
                                             last_error="the platform was down")
    html = page(client, case)
    assert "Not delivered" in html and "the platform was down" in html
    assert reverse("web:retry_reply", args=[reply.pk]) in html
    assert reverse("web:confirm_delivered", args=[reply.pk]) not in html  # failed, not unsure

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:retry_reply", args=[reply.pk]))
    assert response.status_code == 302
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT
    # Sent: nothing to send again, and the page says why.
    client.post(reverse("web:retry_reply", args=[reply.pk]))
    assert "only a reply that was not delivered" in page(client, case)
