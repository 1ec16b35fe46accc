"""Hide, show again, delete: outbox items the channel's connector delivers, only where
the platform allows them, with a visible failure and a way to try again."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from socialdesk.audit.models import Event
from socialdesk.cases.actions import ActionError, do_submit_reply
from socialdesk.cases.clock import tick
from socialdesk.cases.models import Moderation
from socialdesk.cases.moderation import do_request_moderation, do_retry_moderation
from socialdesk.cases.outbox import SENDING_TIMEOUT
from socialdesk.cases.tests.cases_helpers import add_post, make_case
from socialdesk.connectors import registry
from socialdesk.connectors.base import DeliveryError
from socialdesk.connectors.models import ChannelAccount
from socialdesk.ingestion.models import Post

SPAM = "crypto giveaway link, not a customer"


@pytest.fixture
def run_now(django_capture_on_commit_callbacks):
    """Runs what an action queues, as the embedded desk does once it commits."""
    def run(act, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return act(*args, **kwargs)
    return run


def moderations_file(outbox, channel="x"):
    return [json.loads(line) for line in
            (outbox / f"{channel}.moderation.jsonl").read_text().splitlines()]


def test_a_comment_is_hidden_with_a_reason_and_shown_again(agent, teams, outbox, run_now):
    case = make_case(teams["care"], assignee=agent)
    post = case.posts.get()
    item = run_now(do_request_moderation, case, post, "hide", agent, SPAM)

    item.refresh_from_db()
    assert (item.status, item.attempts) == (Moderation.Status.DONE, 1)
    assert [(m["action"], m["external_id"]) for m in moderations_file(outbox)] == \
        [("hide", post.external_id)]
    requested = Event.objects.get(verb="post.hide_requested")
    assert (requested.actor, requested.data["reason"]) == (agent, SPAM)
    assert Event.objects.filter(verb="post.hide_done", case=case).exists()

    run_now(do_request_moderation, case, post, "unhide", agent)
    assert [m["action"] for m in moderations_file(outbox)] == ["hide", "unhide"]


@pytest.mark.parametrize("channel, action, visibility, said", [
    ("x", "hide", "public", "Say why the comment is hidden"),
    ("mastodon", "hide", "public", "Mastodon does not let the brand hide comments"),
    ("x", "hide", "private", "Only a person's public comment can be hidden"),
    ("x", "delete", "public", "Only the brand's own posts can be deleted"),
    ("x", "unhide", "public", "This comment is not hidden"),
    ("x", "explode", "public", "Choose hide, unhide or delete"),
])
def test_what_the_platform_does_not_allow_is_refused_with_the_reason(
        agent, teams, channel, action, visibility, said):
    case = make_case(teams["care"], channel=channel, visibility=visibility)
    with pytest.raises(ActionError, match=said):
        do_request_moderation(case, case.posts.get(), action, agent, "" if action == "hide"
                              and said.startswith("Say") else SPAM)
    assert not Moderation.objects.exists()


def test_one_thing_at_a_time_per_post_and_nothing_twice(agent, teams, outbox, run_now):
    case = make_case(teams["care"])
    post = case.posts.get()
    do_request_moderation(case, post, "hide", agent, SPAM)  # queued, not yet delivered
    with pytest.raises(ActionError, match="being done to this post already"):
        do_request_moderation(case, post, "hide", agent, SPAM)
    Moderation.objects.update(status=Moderation.Status.DONE)
    with pytest.raises(ActionError, match="hidden already"):
        do_request_moderation(case, post, "hide", agent, SPAM)
    other = make_case(teams["care"], handle="dan")
    with pytest.raises(ActionError, match="not on this case"):
        do_request_moderation(other, post, "unhide", agent)


def test_the_brands_own_reply_is_deleted_and_then_offers_nothing(agent, teams, outbox, run_now):
    case = make_case(teams["care"], assignee=agent)
    run_now(do_submit_reply, case, agent, "Sorry to hear that, we've sent you a DM.", "public")
    ours = Post.objects.get(direction=Post.Direction.OUTBOUND)
    run_now(do_request_moderation, case, ours, "delete", agent)

    assert moderations_file(outbox)[0]["action"] == "delete"
    with pytest.raises(ActionError, match="deleted already"):
        do_request_moderation(case, ours, "delete", agent)


class Refusing:
    """Delivers nothing; the platform refuses every hide with its own message."""

    name = "refusing"
    retryable = False

    def deliver(self, account, outgoing):
        raise DeliveryError("not today")

    def moderate(self, account, action, channel, external_id):
        raise DeliveryError("(#200) Permissions error: pages_manage_engagement is missing",
                            retryable=self.retryable)


class Silent:
    name = "silent"

    def deliver(self, account, outgoing):
        raise DeliveryError("not today")


@pytest.fixture
def refusing(monkeypatch):
    monkeypatch.setitem(registry.CONNECTORS, "refusing", Refusing)
    monkeypatch.setitem(registry.CONNECTORS, "silent", Silent)
    return ChannelAccount.objects.create(channel="x", handle="brand", delivery="refusing")


def test_a_refusal_is_shown_on_the_case_and_can_be_tried_again(
        client, agent, teams, outbox, refusing, run_now):
    case = make_case(teams["care"], assignee=agent)
    post = case.posts.get()
    item = run_now(do_request_moderation, case, post, "hide", agent, SPAM)
    item.refresh_from_db()
    assert item.status == Moderation.Status.FAILED
    assert "pages_manage_engagement is missing" in item.last_error

    client.force_login(agent)
    page = client.get(reverse("web:case", args=[case.pk]))
    assert b"not done" in page.content and b"pages_manage_engagement" in page.content
    assert b'value="retry"' in page.content

    ChannelAccount.objects.update(delivery="file")  # the admin fixed the account
    answer = client.post(reverse("web:moderate", args=[case.pk, post.pk]), {"action": "retry"})
    assert answer.status_code == 302
    # The page's own request ran without capturing on-commit hooks: the clock sends it.
    Moderation.objects.update(status_at=timezone.now() - timedelta(minutes=1))
    assert tick()["moderations_requeued"] == 1
    item.refresh_from_db()
    assert item.status == Moderation.Status.DONE
    with pytest.raises(ActionError, match="only one that was not done"):
        do_retry_moderation(item, agent)


def test_a_connector_that_cannot_moderate_fails_at_once_with_its_name(
        agent, teams, outbox, refusing, run_now):
    ChannelAccount.objects.update(delivery="silent")
    case = make_case(teams["care"])
    item = run_now(do_request_moderation, case, case.posts.get(), "hide", agent, SPAM)
    item.refresh_from_db()
    assert (item.status, item.last_error) == (Moderation.Status.FAILED,
                                              "the silent connector cannot hide posts")


def test_an_item_a_dead_worker_left_sending_is_sent_again(agent, teams, outbox):
    case = make_case(teams["care"])
    add_post(case, "second", "and another thing")
    item = do_request_moderation(case, case.posts.get(external_id="second"), "hide", agent,
                                 SPAM)
    Moderation.objects.update(status=Moderation.Status.SENDING, attempts=1)
    assert tick()["moderations_requeued"] == 0, "a delivery may take a while"
    Moderation.objects.update(status_at=timezone.now() - SENDING_TIMEOUT - timedelta(seconds=1))
    assert tick()["moderations_requeued"] == 1
    item.refresh_from_db()
    assert (item.status, item.attempts) == (Moderation.Status.DONE, 2)
    assert len(moderations_file(outbox)) == 1


def test_the_case_page_offers_what_the_channel_allows(client, agent, teams):
    x = make_case(teams["care"], assignee=agent)
    mastodon = make_case(teams["care"], channel="mastodon", handle="erin@example.social")
    client.force_login(agent)
    hide = b'name="action" value="hide"'
    assert hide in client.get(reverse("web:case", args=[x.pk])).content
    assert hide not in client.get(reverse("web:case", args=[mastodon.pk])).content


def test_the_api_queues_it_and_refuses_what_the_channel_cannot_do(client, agent, teams,
                                                                  api_token):
    case = make_case(teams["care"], assignee=agent)
    post = case.posts.get()
    url = f"/api/v1/cases/{case.pk}/posts/{post.pk}/moderation"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {api_token}"}
    refused = client.post(url, {"action": "hide"}, content_type="application/json", **auth)
    assert refused.status_code == 422 and "Say why" in refused.json()["detail"]
    bad = client.post(url, {"action": "burn"}, content_type="application/json", **auth)
    assert bad.status_code == 422
    answer = client.post(url, {"action": "hide", "reason": SPAM},
                         content_type="application/json", **auth)
    assert answer.status_code == 202
    assert (answer.json()["action"], answer.json()["post"]) == ("hide", post.pk)
    missing = client.post(f"/api/v1/cases/{case.pk}/posts/999999/moderation",
                          {"action": "hide", "reason": SPAM}, content_type="application/json",
                          **auth)
    assert missing.status_code == 404
