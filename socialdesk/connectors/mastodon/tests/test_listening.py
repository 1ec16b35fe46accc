"""Posts heard on Mastodon: mentions (direct messages among them) and followed hashtags
arrive by themselves through the clock's fetch, once each, in order, from where the
last fetch ended; the server's errors keep their kind."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from socialdesk.cases.models import Case
from socialdesk.connectors import listening
from socialdesk.connectors.base import ConnectorError
from socialdesk.connectors.mastodon.connector import MastodonConnector
from socialdesk.connectors.mastodon.tests.conftest import DANA, ERIN
from socialdesk.connectors.models import ChannelAccount
from socialdesk.ingestion.models import Post


def poll(account):
    """The clock's next tick for the account, read again as a restarted desk would."""
    account = ChannelAccount.objects.get(pk=account.pk)
    ChannelAccount.objects.filter(pk=account.pk).update(next_poll_at=timezone.now())
    account.refresh_from_db()
    return listening.do_poll_account(account)


def host(server) -> str:
    return server.base.removeprefix("http://")


def test_mentions_arrive_by_themselves_as_posts(teams, server, account):
    status = server.status(
        '<p><span class="h-card"><a href="https://example.social/@care" class="u-url mention">'
        "@<span>care</span></a></span> my kettle stopped working after a week &amp; the lid "
        "is stuck<br />order 1874</p><p>any help?</p>", author=DANA)
    server.mention(status)
    local = server.status("<p>@care is the shop open today?</p>", author=ERIN)
    server.mention(local)

    report = listening.do_poll_account(account)
    assert (report.fetched, report.created, report.error) == (2, 2, "")
    post = Post.objects.get(external_id=f"{host(server)}:{status['id']}")
    assert post.text == ("@care my kettle stopped working after a week & the lid is stuck\n"
                         "order 1874\n\nany help?")
    assert (post.author.handle, post.author.name, post.author.followers) == (
        "dana@other.example", "Dana", 412)
    assert (post.url, post.visibility, post.lang) == (status["url"], "public", "en")
    assert post.source == "listen:mastodon" and post.case is not None
    assert post.raw["uri"] == status["uri"] and post.raw["status_id"] == status["id"]
    # A local account is named with its server's domain too.
    assert Post.objects.get(external_id__endswith=local["id"]).author.handle == \
        "erin@example.social"
    assert Case.objects.count() == 2
    assert server.seen("GET", "/api/v1/notifications")[0]["args"]["types[]"] == ["mention"]


def test_a_direct_message_is_a_private_post(teams, server, account):
    server.mention(server.status("<p>@care my address is 1 Tea Lane, please call me</p>",
                                 author=DANA, visibility="direct"))
    listening.do_poll_account(account)
    post = Post.objects.get()
    assert post.visibility == "private" and post.raw["mastodon_visibility"] == "direct"


def test_pages_are_read_oldest_first_from_the_checkpoint_across_a_restart(
        teams, server, account, settings):
    server.mention(server.status("<p>@care first</p>", author=DANA))
    assert poll(account).created == 1
    first = ChannelAccount.objects.get().checkpoint["mentions"]
    assert first == server.notifications[0]["id"]

    settings.PIPELINE_BATCH_SIZE = 3
    later = [server.status(f"<p>@care message {n}</p>", author=DANA) for n in range(7)]
    for status in later:
        server.mention(status)
    report = poll(account)
    assert (report.fetched, report.created) == (7, 7)
    # Forward from the checkpoint with min_id, one page after another, as the Link
    # header's "prev" said.
    asked = [r["args"].get("min_id") for r in server.seen("GET", "/api/v1/notifications")]
    assert asked == [None, [first], [server.notifications[3]["id"]],
                     [server.notifications[6]["id"]]]
    stored = Post.objects.order_by("id").values_list("text", flat=True)
    assert list(stored)[1:] == [f"@care message {n}" for n in range(7)]
    assert ChannelAccount.objects.get().checkpoint == {"mentions": server.notifications[-1]["id"]}

    # A restarted desk goes on from the saved checkpoint: nothing again.
    assert poll(account).fetched == 0
    assert server.seen("GET", "/api/v1/notifications")[-1]["args"]["min_id"] == \
        [server.notifications[-1]["id"]]


def test_a_stream_read_for_the_first_time_starts_from_its_latest_page(teams, server, account,
                                                                     settings):
    settings.PIPELINE_BATCH_SIZE = 5
    for n in range(8):
        server.mention(server.status(f"<p>@care old {n}</p>", author=DANA))
    report = poll(account)
    assert report.fetched == 5
    assert sorted(Post.objects.values_list("text", flat=True)) == [
        f"@care old {n}" for n in range(3, 8)]


def test_hashtags_are_heard_each_from_its_own_position(teams, server, account):
    account.config["hashtags"] = ["#KettleCo", "kettlehelp"]
    account.save()
    one = server.status("<p>does the <a href='https://example.social/tags/kettleco'>#kettleco"
                        "</a> travel kettle fit in a bag?</p>", author=DANA, tags=["kettleco"],
                        mentions=())
    assert poll(account).created == 1
    checkpoint = ChannelAccount.objects.get().checkpoint
    assert checkpoint["tags"] == {"kettleco": one["id"]}
    assert Post.objects.get().raw["heard_as"] == "#kettleco"

    two = server.status("<p>#kettlehelp mine leaks</p>", author=DANA, tags=["kettlehelp"],
                        mentions=())
    three = server.status("<p>#kettleco love it</p>", author=DANA, tags=["kettleco"],
                          mentions=())
    assert poll(account).created == 2
    checkpoint = ChannelAccount.objects.get().checkpoint
    assert checkpoint["tags"] == {"kettleco": three["id"], "kettlehelp": two["id"]}
    tag_requests = server.seen("GET", "/api/v1/timelines/tag/kettleco")
    assert tag_requests[-1]["args"]["min_id"] == [one["id"]]


def test_a_status_heard_twice_is_stored_once_and_a_reply_before_its_parent_is_threaded(
        teams, server, account):
    account.config["hashtags"] = ["kettleco"]
    account.save()
    parent = server.status("<p>@care #kettleco the lid is stuck</p>", author=DANA,
                           status_id="113600000000000050")
    reply = server.status("<p>@care still stuck, any news?</p>", author=DANA,
                          in_reply_to=parent["id"], status_id="113600000000000060")
    # The reply's notification comes first; the parent is heard after it, as a
    # mention and under the hashtag in the same fetch.
    server.mention(reply)
    assert poll(account).created == 1
    assert Post.objects.get().parent is None
    server.mention(parent)
    parent["tags"] = [{"name": "kettleco", "url": "https://example.social/tags/kettleco"}]
    report = poll(account)
    assert (report.fetched, report.created, report.duplicates) == (2, 1, 1)

    stored = Post.objects.get(external_id=f"{host(server)}:{reply['id']}")
    assert stored.in_reply_to == f"{host(server)}:{parent['id']}"
    assert stored.parent.external_id == f"{host(server)}:{parent['id']}"
    assert Post.objects.count() == 2


def test_a_rate_limit_waits_as_long_as_the_server_says_and_loses_nothing(
        teams, server, account):
    server.mention(server.status("<p>@care first</p>", author=DANA))
    poll(account)
    server.mention(server.status("<p>@care second</p>", author=DANA))
    server.rate_limited("/api/v1/notifications", reset_in=120)
    before = timezone.now()
    report = poll(account)
    assert "rate limit" in report.error
    account.refresh_from_db()
    assert account.error_kind == ConnectorError.RETRYABLE
    assert before + timedelta(seconds=100) < account.next_poll_at < \
        before + timedelta(seconds=130)
    assert account.checkpoint == {"mentions": server.notifications[0]["id"]}

    report = poll(account)
    assert (report.created, report.error) == (1, "")
    assert Post.objects.count() == 2


def test_a_revoked_token_stops_fetching_with_the_servers_message(teams, server, account):
    server.fail("/api/v1/notifications", 401)
    report = poll(account)
    account.refresh_from_db()
    assert account.error_kind == ConnectorError.REAUTHORISE and account.next_poll_at is None
    assert "The access token was revoked" in account.last_error
    assert report.fetched == 0


def test_a_server_error_is_tried_again(teams, server, account):
    server.fail("/api/v1/notifications", 503)
    poll(account)
    account.refresh_from_db()
    assert account.error_kind == ConnectorError.RETRYABLE
    assert "temporary problem" in account.last_error


def test_a_status_that_is_not_a_post_is_reported_and_the_others_kept(teams, server, account):
    server.mention(server.status("<p>@care fine</p>", author=DANA))
    broken = server.status("<p>@care from the future</p>", author=DANA,
                           at="2099-01-01T00:00:00.000Z")
    server.mention(broken)
    report = poll(account)
    assert report.created == 1
    assert report.rejected[0][0] == f"mention status {broken['id']}"
    assert "created_at" in report.rejected[0][1]


def test_check_says_who_the_desk_is_signed_in_as(server, account):
    assert MastodonConnector().check(account) == \
        "signed in as @care@example.social (Kettle Co. Care)"
    account.handle = "help@example.social"
    with pytest.raises(ConnectorError, match="signs in as @care@example.social, not "
                                             "@help@example.social"):
        MastodonConnector().check(account)
    server.fail("/api/v1/accounts/verify_credentials", 401)
    ok, said = listening.check_account(account)
    assert not ok and "The access token was revoked" in said and "reauthorise" in said


@pytest.mark.parametrize("config, complaint", [
    ({}, "config.api_base_url must be the server's address"),
    ({"api_base_url": "http://mastodon.example"}, "must use https"),
    ({"api_base_url": "https://mastodon.example/api"}, "must be the server's address"),
    ({"api_base_url": "https://mastodon.example", "hashtags": "kettleco"}, "list of up to"),
    ({"api_base_url": "https://mastodon.example", "hashtags": ["two words"]}, "list of up to"),
    ({"api_base_url": "https://mastodon.example", "keywords": ["kettle"]}, "not supported"),
])
def test_bad_settings_say_what_to_fix(db, account, config, complaint):
    account.config = config
    with pytest.raises(ConnectorError, match=complaint) as raised:
        MastodonConnector().fetch(account, {}, 10)
    assert raised.value.kind == ConnectorError.PERMANENT


def test_an_account_without_a_token_needs_one(db, account):
    account.set_secrets({})
    with pytest.raises(ConnectorError, match="no access_token") as raised:
        MastodonConnector().fetch(account, {}, 10)
    assert raised.value.kind == ConnectorError.REAUTHORISE


@pytest.mark.parametrize("code, kind", [
    (401, ConnectorError.REAUTHORISE),
    (403, ConnectorError.REAUTHORISE),  # a token without the scope, a disabled login
    (404, ConnectorError.PERMANENT),  # not a Mastodon API at this address
    (422, ConnectorError.PERMANENT),
    (500, ConnectorError.RETRYABLE),
    (503, ConnectorError.RETRYABLE),
])
def test_the_servers_errors_keep_their_kind_and_words(db, server, account, code, kind):
    server.fail("/api/v1/notifications", code)
    with pytest.raises(ConnectorError, match=rf"\(HTTP {code}\)") as raised:
        MastodonConnector().fetch(account, {}, 10)
    assert raised.value.kind == kind


def test_a_server_out_of_reach_is_tried_again(db, account):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    account.config = {"api_base_url": f"http://127.0.0.1:{port}"}
    with pytest.raises(ConnectorError, match=f"could not reach 127.0.0.1:{port}") as raised:
        MastodonConnector().fetch(account, {}, 10)
    assert raised.value.kind == ConnectorError.RETRYABLE
