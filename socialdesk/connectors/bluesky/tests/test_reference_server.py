"""The Bluesky connector against the AT Protocol's reference services (a PDS and
the Bluesky AppView, conftest.reference_server): what a customer posts is heard,
and the agent's reply lands in the customer's thread, once."""

import pytest
from atproto import models

from socialdesk.cases.actions import do_submit_reply
from socialdesk.cases.models import Reply
from socialdesk.connectors import listening
from socialdesk.connectors.base import ConnectorError, DeliveryError, Outgoing
from socialdesk.connectors.bluesky.connector import BlueskyConnector
from socialdesk.connectors.bluesky.reply import record_key
from socialdesk.connectors.bluesky.tests.conftest import eventually
from socialdesk.connectors.models import ChannelAccount
from socialdesk.ingestion.models import Post
from socialdesk.pipeline import ingest

SORRY = "Sorry to hear that, we've sent you a DM."
# The services take a while to start and hold no data of the desk's: the CI's
# PostgreSQL pass leaves them out.
pytestmark = pytest.mark.reference_server


def mention(customer, brand, text: str, reply_to=None):
    """A post by the customer naming the brand (a mention facet), maybe in a thread."""
    return customer.mention(brand, text, reply_to=reply_to)


def heard(brand, uri: str) -> bool:
    found = brand.client.app.bsky.notification.list_notifications().notifications
    return any(n.uri == uri for n in found)


def indexed(person, uri: str) -> bool:
    return bool(person.client.app.bsky.feed.get_posts(params={"uris": [uri]}).posts)


def poll(account) -> listening.PollReport:
    account.refresh_from_db()
    return listening.do_poll_account(account)


def test_a_mention_is_heard_and_the_agents_reply_lands_in_its_thread(
        brand, people, teams, agent, django_capture_on_commit_callbacks):
    person, account = brand
    dana = people("dana")
    root = dana.post("day three without a working kettle")
    asked = mention(dana, person, "my order never arrived and nobody answers, please help",
                    reply_to=models.AppBskyFeedPost.ReplyRef(
                        root=models.create_strong_ref(root),
                        parent=models.create_strong_ref(root)))
    assert eventually(lambda: heard(person, asked.uri))

    report = poll(account)
    assert (report.created, report.error) == (1, "")
    post = Post.objects.get(channel="bluesky", external_id=asked.uri)
    assert post.author.handle == dana.handle and post.in_reply_to == root.uri
    assert post.url.startswith(f"https://bsky.app/profile/{dana.handle}/post/")
    assert post.raw["root"] == {"uri": root.uri, "cid": root.cid}
    assert post.raw["cid"] == asked.cid

    case = post.case
    case.assignee, case.approval_by = agent, ""
    case.save()
    with django_capture_on_commit_callbacks(execute=True):
        reply = do_submit_reply(case, agent, SORRY, "public")
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT, reply.last_error
    uri = reply.post.external_id
    assert uri == f"at://{person.did}/app.bsky.feed.post/{record_key(str(reply.delivery_key))}"

    # Read back from the server, as the customer sees it.
    thread = eventually(lambda: dana.client.get_post_thread(asked.uri).thread.replies)
    answer = thread[0].post
    assert (answer.uri, answer.author.did, answer.record.text) == (uri, person.did, SORRY)
    assert answer.record.reply.root.uri == root.uri
    assert (answer.record.reply.parent.uri, answer.record.reply.parent.cid) == (
        asked.uri, asked.cid)


def outgoing_to(post, key="reply-1", text=SORRY, **more) -> Outgoing:
    return Outgoing(reply_id=1, channel="bluesky", text=text, visibility="public",
                    in_reply_to=post.uri, recipient="dana", case_ref="C-1", key=key, **more)


def test_a_reply_sent_again_with_the_same_key_is_posted_once(brand, people):
    person, account = brand
    dana = people("dana")
    asked = mention(dana, person, "is the shop open on Sunday?")
    assert eventually(lambda: heard(person, asked.uri))
    connector = BlueskyConnector()
    outgoing = outgoing_to(asked)
    assert connector.find_delivered(account, outgoing) is None

    first = connector.deliver(account, outgoing)
    again = connector.deliver(account, outgoing)  # a retry after a lost answer
    assert again == first == connector.find_delivered(account, outgoing)
    posts = person.client.com.atproto.repo.list_records(params={
        "repo": person.did, "collection": "app.bsky.feed.post"}).records
    assert [p.uri for p in posts] == [first.external_id]
    assert first.url == (f"https://bsky.app/profile/{person.handle}/post/"
                         f"{first.external_id.rsplit('/', 1)[-1]}")


def test_a_reply_to_a_deleted_post_is_refused_for_good(brand, people):
    person, account = brand
    dana = people("dana")
    asked = mention(dana, person, "never mind")
    dana.client.delete_post(asked.uri)
    with pytest.raises(DeliveryError, match="no longer on Bluesky") as refused:
        BlueskyConnector().deliver(account, outgoing_to(asked))
    assert not refused.value.retryable


def test_a_reply_over_the_length_limit_is_refused_with_the_servers_reason(brand, people):
    person, account = brand
    dana = people("dana")
    asked = mention(dana, person, "hello?")
    assert eventually(lambda: heard(person, asked.uri))
    with pytest.raises(DeliveryError, match="maximum 300") as refused:
        BlueskyConnector().deliver(account, outgoing_to(asked, text="Sorry! " * 50))
    assert not refused.value.retryable


def test_check_says_who_the_desk_is_and_refuses_wrong_or_main_passwords(brand):
    person, account = brand
    assert BlueskyConnector().check(account) == f"signed in as @{person.handle} ({person.did})"

    account.set_secrets({"app_password": "wrong-wrong-wrong"})
    with pytest.raises(ConnectorError, match="Invalid identifier or password") as refused:
        BlueskyConnector().check(account)
    assert refused.value.kind == ConnectorError.REAUTHORISE

    account.set_secrets({"app_password": person.password})
    with pytest.raises(ConnectorError, match="main password") as refused:
        BlueskyConnector().check(account)
    assert refused.value.kind == ConnectorError.REAUTHORISE


def test_the_session_is_kept_so_fetches_do_not_sign_in_each_time(brand):
    _, account = brand
    BlueskyConnector().check(account)
    account.refresh_from_db()
    kept = account.secrets()["session"]["string"]
    BlueskyConnector().fetch(account, {}, 10)
    account.refresh_from_db()
    assert account.secrets()["session"]["string"] == kept


def test_fetches_page_back_and_resume_from_the_checkpoint_after_a_restart(
        brand, people, teams, settings):
    person, account = brand
    settings.PIPELINE_BATCH_SIZE = 2  # pages of two
    dana = people("dana")
    asked = [mention(dana, person, f"question number {n}, my order never arrived")
             for n in range(5)]
    assert eventually(lambda: all(heard(person, p.uri) for p in asked))

    # The first page is stored and its checkpoint saved, then the process stops.
    first = BlueskyConnector().fetch(account, {}, 2)
    assert first.more and len(first.records) == 2
    ingest(first.records)
    ChannelAccount.objects.filter(pk=account.pk).update(checkpoint=first.checkpoint)

    report = poll(account)  # a new process: goes on from the saved checkpoint
    assert (report.created, report.error) == (3, "")
    assert set(Post.objects.values_list("external_id", flat=True)) == {p.uri for p in asked}
    account.refresh_from_db()
    assert account.checkpoint["notifications"].keys() == {"seen"}

    later = mention(dana, person, "and one more thing")
    assert eventually(lambda: heard(person, later.uri))
    ChannelAccount.objects.filter(pk=account.pk).update(next_poll_at=None, last_polled_at=None)
    report = poll(account)
    # The new one; the others come again from the sweep's overlap, and are stored once.
    assert (report.created, report.duplicates) == (1, 5)
    assert Post.objects.filter(external_id=later.uri).exists()


def test_keywords_are_heard_through_search(brand, people, teams):
    person, account = brand
    account.config["keywords"] = ["kettleco"]
    account.save()
    dana = people("dana")
    said = dana.post("the kettleco descaler works wonders")
    person.post("kettleco news: our own post is not a customer's")
    assert eventually(lambda: person.client.app.bsky.feed.search_posts(
        params={"q": "kettleco"}).posts)

    fetched = BlueskyConnector().fetch(account, {}, 10)
    assert [r.external_id for r in fetched.records] == [said.uri]
    assert fetched.records[0].extra["reason"] == "search"
    assert "kettleco" in fetched.checkpoint["search"]


def test_a_reply_in_the_brands_thread_is_hidden_and_shown_again_and_ours_deleted(brand, people):
    person, account = brand
    dana = people("dana")
    ours = person.post("our new kettle is out")
    # The AppView indexes each account's posts on its own: a reply it indexes
    # before the post it answers notifies nobody.
    assert eventually(lambda: indexed(person, ours.uri))
    rude = dana.reply("spam spam spam", ours)
    assert eventually(lambda: heard(person, rude.uri))

    def hidden():
        return person.client.com.atproto.repo.get_record(params={
            "repo": person.did, "collection": "app.bsky.feed.threadgate",
            "rkey": ours.uri.rsplit("/", 1)[-1]}).value.hidden_replies

    connector = BlueskyConnector()
    connector.moderate(account, "hide", "bluesky", rude.uri)
    assert hidden() == [rude.uri]
    connector.moderate(account, "unhide", "bluesky", rude.uri)
    assert hidden() == []

    theirs = dana.post("my own thread")
    answer = person.reply("we hear you", theirs)
    assert eventually(lambda: indexed(person, answer.uri))
    with pytest.raises(DeliveryError, match="brand's own threads"):
        connector.moderate(account, "hide", "bluesky", answer.uri)

    connector.moderate(account, "delete", "bluesky", answer.uri)
    connector.moderate(account, "delete", "bluesky", answer.uri)  # gone already: done
    ours_left = person.client.com.atproto.repo.list_records(params={
        "repo": person.did, "collection": "app.bsky.feed.post"}).records
    assert answer.uri not in [p.uri for p in ours_left] and ours.uri in [p.uri for p in ours_left]
    with pytest.raises(DeliveryError, match="only the brand's own posts"):
        connector.moderate(account, "delete", "bluesky", rude.uri)
