"""Replies posted on Mastodon through the desk's own delivery path (cases.tasks): in
the thread, to the people in it, never wider than the conversation, once however
often they are sent, and with the server's reasons when they cannot go."""

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.urls import reverse
from django.utils import timezone

from socialdesk.cases.actions import do_submit_reply
from socialdesk.cases.clock import tick
from socialdesk.cases.models import Moderation, Reply
from socialdesk.cases.moderation import do_request_moderation
from socialdesk.cases.outbox import SENDING_TIMEOUT
from socialdesk.cases.tasks import deliver_reply, outgoing_for
from socialdesk.connectors import listening
from socialdesk.connectors.base import DeliveryError
from socialdesk.connectors.mastodon.connector import MastodonConnector
from socialdesk.connectors.mastodon.tests.conftest import DANA, ERIN
from socialdesk.connectors.models import ChannelAccount
from socialdesk.ingestion.models import Post

SORRY = "Sorry to hear that, could you send us your order number?"


def heard(server, account, html="<p>@care my kettle stopped working after a week</p>", **kw):
    """A status mentioning the brand, heard through the account's listener."""
    status = server.status(html, **{"author": DANA, **kw})
    server.mention(status)
    account.refresh_from_db()
    listening.do_poll_account(account)
    return status, Post.objects.get(external_id__endswith=f":{status['id']}")


def reply_to(post, agent, text=SORRY, visibility="public") -> Reply:
    return do_submit_reply(post.case, agent, text, visibility)


def test_a_public_reply_threads_and_mentions_the_people_in_it(teams, agent, server, account):
    status, post = heard(server, account, "<p>@care @erin my kettle leaks</p>",
                         mentions=("care", "erin"), visibility="unlisted")
    reply = reply_to(post, agent)
    assert deliver_reply(reply.pk) == "sent"

    [sent] = server.seen("POST", "/api/v1/statuses")
    assert sent["form"]["in_reply_to_id"] == status["id"]
    # The author first, the other participant kept, the brand itself left out.
    assert sent["form"]["status"] == f"@dana@other.example @erin@example.social {SORRY}"
    assert sent["form"]["visibility"] == "unlisted"
    reply.refresh_from_db()
    posted = server.posted[0]
    assert reply.status == Reply.Status.SENT
    assert reply.post.external_id == f"{server.base.removeprefix('http://')}:{posted['id']}"
    assert reply.post.url == posted["url"] and reply.post.parent == post


def test_a_reply_that_already_names_the_author_is_not_prefixed(teams, agent, server, account):
    _, post = heard(server, account, author=ERIN)
    reply = reply_to(post, agent, f"@erin {SORRY}")
    deliver_reply(reply.pk)
    assert server.posted[0]["text"] == f"@erin {SORRY}"


def test_a_direct_message_is_answered_directly(teams, agent, server, account):
    status, post = heard(server, account, "<p>@care @erin our order 1874 never came</p>",
                         visibility="direct", mentions=("care", "erin"))
    assert post.visibility == "private"
    reply = reply_to(post, agent, visibility="private")
    assert deliver_reply(reply.pk) == "sent"
    [sent] = server.seen("POST", "/api/v1/statuses")
    assert sent["form"]["visibility"] == "direct"
    assert sent["form"]["in_reply_to_id"] == status["id"]
    # Those already in the private conversation stay in it.
    assert sent["form"]["status"] == f"@dana@other.example @erin@example.social {SORRY}"


def test_a_public_post_answered_privately_reaches_its_author_alone(teams, agent, server,
                                                                    account):
    _, post = heard(server, account, "<p>@care @erin my kettle leaks</p>",
                    mentions=("care", "erin"))
    reply = reply_to(post, agent, visibility="private")
    deliver_reply(reply.pk)
    [sent] = server.seen("POST", "/api/v1/statuses")
    assert (sent["form"]["visibility"], sent["form"]["status"]) == \
        ("direct", f"@dana@other.example {SORRY}")


def test_a_followers_only_post_is_never_answered_more_widely(teams, agent, server, account):
    _, post = heard(server, account, visibility="private", spoiler="kettle rant")
    deliver_reply(reply_to(post, agent).pk)
    [sent] = server.seen("POST", "/api/v1/statuses")
    # Followers-only: public in the desk's terms, but only those mentioned may read
    # the answer; its content warning is kept.
    assert (sent["form"]["visibility"], sent["form"]["spoiler_text"]) == \
        ("direct", "kettle rant")


def test_a_reply_to_a_deleted_status_is_not_delivered_and_says_why(teams, agent, server,
                                                                  account):
    status, post = heard(server, account)
    del server.statuses[status["id"]]
    reply = reply_to(post, agent)
    assert deliver_reply(reply.pk) == "failed"
    reply.refresh_from_db()
    assert reply.status == Reply.Status.FAILED
    assert "the status this replies to is gone" in reply.last_error
    assert "does not appear to exist" in reply.last_error


def test_the_idempotency_key_goes_with_every_attempt_and_the_reply_is_posted_once(
        teams, agent, server, account):
    _, post = heard(server, account)
    reply = reply_to(post, agent)
    # A proxy fails the first attempt; the server takes the second, but its answer
    # is lost on the way back.
    server.fail("/api/v1/statuses", 502)
    server.lose_answer("/api/v1/statuses")
    for _ in range(2):
        with pytest.raises(Retry):
            deliver_reply(reply.pk)
        reply.refresh_from_db()
        assert reply.status == Reply.Status.QUEUED and "(HTTP 50" in reply.last_error
    assert len(server.posted) == 1

    # The third attempt, with the same key, gets the status the second one posted.
    assert deliver_reply(reply.pk) == "sent"
    keys = [r["headers"].get("Idempotency-Key") for r in server.seen("POST", "/api/v1/statuses")]
    assert keys == [str(reply.delivery_key)] * 3
    assert len(server.posted) == 1
    reply.refresh_from_db()
    assert reply.post.external_id.endswith(f":{server.posted[0]['id']}")


def post_account(account):
    account.refresh_from_db()
    return account


def test_a_rate_limit_holds_the_reply_for_as_long_as_the_server_says(teams, agent, server,
                                                                    account):
    _, post = heard(server, account)
    reply = reply_to(post, agent)
    server.rate_limited("/api/v1/statuses", reset_in=90)
    with pytest.raises(Retry):
        deliver_reply(reply.pk)
    reply.refresh_from_db()
    assert reply.status == Reply.Status.QUEUED and "rate limit" in reply.last_error
    assert not server.posted
    # The wait the task is retried after is the server's.
    server.rate_limited("/api/v1/statuses", reset_in=90)
    with pytest.raises(DeliveryError, match="rate limit") as raised:
        MastodonConnector().deliver(account, outgoing_for(reply))
    assert raised.value.retryable and 70 < raised.value.retry_after <= 90
    assert deliver_reply(reply.pk) == "sent"


def test_a_revoked_token_fails_the_reply_with_the_servers_words(teams, agent, server, account):
    _, post = heard(server, account)
    reply = reply_to(post, agent)
    server.fail("/api/v1/statuses", 401)
    assert deliver_reply(reply.pk) == "failed"
    reply.refresh_from_db()
    assert "The access token was revoked" in reply.last_error
    assert "new token" in reply.last_error


def test_the_servers_refusal_is_final_with_its_message(teams, agent, server, account):
    _, post = heard(server, account)
    reply = reply_to(post, agent)
    server.fail("/api/v1/statuses", 422)
    assert deliver_reply(reply.pk) == "failed"
    reply.refresh_from_db()
    assert "Text character limit of 500 exceeded (HTTP 422)" in reply.last_error


def test_a_reply_too_long_with_its_mentions_is_refused_before_it_is_sent(
        teams, agent, server, account):
    _, post = heard(server, account, "<p>@care @erin hi</p>", mentions=("care", "erin"))
    text = "Thanks for waiting, we are looking into it. " * 11 + "Speak soon, Sam"
    assert len(text) == 499  # the composer takes it
    reply = reply_to(post, agent, text)
    assert deliver_reply(reply.pk) == "failed"
    reply.refresh_from_db()
    assert "counts 511 characters" in reply.last_error
    assert "takes 500: shorten it" in reply.last_error and not server.posted


def left_sending(reply):
    Reply.objects.filter(pk=reply.pk).update(
        status=Reply.Status.SENDING, attempts=1,
        status_at=timezone.now() - SENDING_TIMEOUT - timedelta(seconds=1))
    reply.refresh_from_db()
    return reply


def test_a_reply_posted_before_a_crash_is_found_and_recorded_not_posted_again(
        teams, agent, server, account):
    _, post = heard(server, account)
    reply = reply_to(post, agent)
    # The worker posted it and died before recording it.
    MastodonConnector().deliver(post_account(account), outgoing_for(reply))
    left_sending(reply)
    assert tick()["replies_found_sent"] == 1
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT
    assert reply.post.external_id.endswith(f":{server.posted[0]['id']}")
    assert len(server.posted) == 1
    assert server.seen("GET", f"/api/v1/statuses/{server.posted[0]['id']}/source")


def test_a_reply_the_server_never_got_is_sent_once_after_a_crash(
        teams, agent, server, account, django_capture_on_commit_callbacks):
    _, post = heard(server, account)
    # Another reply of ours in the same thread, with other words, is not it.
    server.status("<p>@dana@other.example Hello!</p>", author=server.me,
                  in_reply_to=post.raw["status_id"])["text"] = "@dana@other.example Hello!"
    reply = left_sending(reply_to(post, agent))
    assert MastodonConnector().find_delivered(post_account(account), outgoing_for(reply)) is None
    with django_capture_on_commit_callbacks(execute=True):
        tick()
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and len(server.posted) == 1


def test_the_brand_can_delete_its_reply(teams, agent, server, account):
    _, post = heard(server, account)
    reply = reply_to(post, agent)
    deliver_reply(reply.pk)
    reply.refresh_from_db()
    connector = MastodonConnector()
    connector.delete(post_account(account), reply.post.external_id)
    assert server.seen("DELETE", f"/api/v1/statuses/{server.posted[0]['id']}")
    connector.delete(account, reply.post.external_id)  # already gone: done
    with pytest.raises(DeliveryError, match="is not a status on"):
        connector.delete(account, "elsewhere.example:123")


def test_a_post_heard_elsewhere_is_found_by_its_address(teams, agent, server, account):
    status = server.status("<p>@care hello from an import</p>", author=DANA)
    _, post = heard(server, account)
    Post.objects.filter(pk=post.pk).update(external_id=status["uri"], raw={})
    post.refresh_from_db()
    reply = reply_to(post, agent)
    assert deliver_reply(reply.pk) == "sent"
    [sent] = server.seen("POST", "/api/v1/statuses")
    assert sent["form"]["in_reply_to_id"] == status["id"]
    assert sent["form"]["visibility"] == "unlisted"  # its visibility was never seen



def test_an_admin_connects_the_account_from_the_desk(client, admin_user, server):
    client.force_login(admin_user)
    connect = reverse("web:channel_account_connect", args=["mastodon"])
    fields = {"channel": "mastodon", "handle": "care@example.social", "poll_seconds": "60",
              "s_api_base_url": server.base, "s_hashtags": "kettleco"}
    refused = client.post(connect, {**fields, "s_access_token": "wrong-token"})
    assert refused.status_code == 422 and b"reauthorise" in refused.content
    done = client.post(connect, {**fields, "s_access_token": "secret-token"}, follow=True)
    assert b"signed in as @care@example.social" in done.content
    account = ChannelAccount.objects.get()
    assert (account.listener, account.delivery) == ("mastodon", "mastodon")
    assert account.config["hashtags"] == ["kettleco"]


def test_an_agent_deletes_the_brands_reply_through_the_outbox(
        teams, agent, server, account, django_capture_on_commit_callbacks):
    _, post = heard(server, account)
    reply = reply_to(post, agent)
    deliver_reply(reply.pk)
    reply.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        item = do_request_moderation(reply.case, reply.post, "delete", agent)
    item.refresh_from_db()
    assert item.status == Moderation.Status.DONE
    assert server.seen("DELETE", f"/api/v1/statuses/{server.posted[0]['id']}")
