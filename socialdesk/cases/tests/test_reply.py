import json

from django.urls import reverse

from conftest import post
from socialdesk.audit.models import Event
from socialdesk.cases.models import Case, Reply

COMPLAINT = "my kettle stopped working after a week, really disappointed"


def test_an_agent_replies_and_the_reply_is_delivered_through_the_outbox(
        client, feed, agent, outbox, django_capture_on_commit_callbacks):
    feed(post("1", COMPLAINT, author="carol"))
    case = Case.objects.get()
    client.force_login(agent)
    client.post(reverse("web:assign_to_me", args=[case.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:reply", args=[case.pk]),
                               {"text": "Sorry to hear that, we've sent you a DM.",
                                "visibility": "public"})
    assert response.status_code == 302
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.SENT
    delivered = [json.loads(line) for line in (outbox / "x.jsonl").read_text().splitlines()]
    assert delivered == [{**delivered[0], "text": "Sorry to hear that, we've sent you a DM.",
                          "recipient": "carol", "in_reply_to": "1", "case_ref": case.ref}]
    case.refresh_from_db()
    assert case.first_response_at is not None and case.status == Case.Status.OPEN
    assert case.posts.filter(direction="outbound", sent_by=agent).count() == 1
    verbs = list(Event.objects.filter(case=case, verb__startswith="reply.")
                 .values_list("verb", flat=True))
    assert verbs == ["reply.queued", "reply.sent"]
    step = Event.objects.get(case=case, verb="case.step_done")
    assert step.data["step"] == "acknowledge_publicly" and step.data["via"] == "public reply"


def test_a_public_reply_over_the_channel_limit_is_refused(client, feed, agent):
    feed(post("1", COMPLAINT))
    case = Case.objects.get()
    client.force_login(agent)
    client.post(reverse("web:reply", args=[case.pk]), {"text": "x" * 281, "visibility": "public"})
    assert not Reply.objects.exists()


def test_status_changes_are_audited(client, feed, agent):
    feed(post("1", COMPLAINT))
    case = Case.objects.get()
    before = case.status
    client.force_login(agent)
    client.post(reverse("web:status", args=[case.pk]), {"status": "resolved"})
    case.refresh_from_db()
    assert case.status == "resolved" and case.resolved_at
    event = Event.objects.get(verb="case.status_changed")
    assert (event.actor, event.data) == (agent, {"before": before, "after": "resolved"})


def test_a_new_complaint_on_a_resolved_thread_reopens_the_case(feed, teams):
    feed(post("1", COMPLAINT))
    Case.objects.update(status="resolved")
    feed(post("2", "it broke again, still not working", in_reply_to="1",
              at="2026-11-17T09:00:00+00:00"))
    case = Case.objects.get()
    assert case.status == "open"
    assert Event.objects.filter(case=case, verb="case.reopened").exists()
