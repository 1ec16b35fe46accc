"""Hearing Mastodon at once: the server's notification stream wakes the watch
(connectors.watching) at each mention, and the account is fetched by the clock's
own path; no clock runs here, so what arrives came that way."""

import logging
import time

import pytest
from pytest_httpserver import HTTPServer

from socialdesk.connectors import watching
from socialdesk.connectors.mastodon import connector as mastodon_connector
from socialdesk.connectors.mastodon.connector import MastodonConnector
from socialdesk.connectors.mastodon.tests.conftest import DANA
from socialdesk.connectors.mastodon.tests.server import FakeMastodon
from socialdesk.connectors.models import ChannelAccount
from socialdesk.connectors.tests.watched import counted_fetches, first_failure
from socialdesk.connectors.watching import AccountWatcher
from socialdesk.ingestion.models import Post

WAIT = 30
STREAM = "/api/v1/streaming/user/notification"


@pytest.fixture
def fetches(monkeypatch):
    """An event per fetch the watch has asked for, set once the fetch is done."""
    monkeypatch.setattr(mastodon_connector, "STREAM_CHECK_SECONDS", 0.1)
    monkeypatch.setattr(watching, "RETRY_SECONDS", 0.2)
    return counted_fetches(monkeypatch)


def account_on(server, token="secret-token") -> ChannelAccount:
    account = ChannelAccount(channel="mastodon", handle="care@example.social",
                             listener="mastodon", delivery="mastodon",
                             config={"api_base_url": server.base})
    account.set_secrets({"access_token": token})
    account.save()
    return account


@pytest.fixture
def streaming_server():
    """A server that keeps the notification stream open (a thread per request)."""
    httpserver = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    httpserver.start()
    server = FakeMastodon(httpserver)
    yield server
    for _ in range(5):  # every connection still open ends
        server.stream.put(None)
    httpserver.stop()


def test_a_streamed_mention_is_fetched_at_once_and_other_news_is_not(
        transactional_db, teams, streaming_server, fetches):
    server = streaming_server
    watcher = AccountWatcher(account_on(server), MastodonConnector())
    watcher.start()
    try:
        assert fetches[0].wait(WAIT), "no fetch on connecting"
        deadline = time.monotonic() + WAIT
        while not server.seen("GET", STREAM) and time.monotonic() < deadline:
            time.sleep(0.05)
        asked = server.mention(server.status("<p>@care my kettle leaks, help</p>",
                                             author=DANA))
        server.stream.put(("notification", dict(asked, id="990001", type="favourite")))
        assert not fetches[1].wait(1), "a favourite woke the watch"
        server.stream.put(("notification", asked))
        assert fetches[1].wait(WAIT), "the streamed mention was not heard"
    finally:
        watcher.stop()
        watcher.join(WAIT)
    assert not watcher.is_alive()
    assert list(Post.objects.values_list("external_id", flat=True)) == \
        [f"{server.base.split('//')[1]}:{asked['status']['id']}"]
    assert len(server.seen("GET", STREAM)) == 1  # one connection, held open


def test_a_stream_the_server_ends_is_connected_again(transactional_db, streaming_server,
                                                    fetches):
    server = streaming_server
    server.stream.put(None)  # the first connection ends at once
    watcher = AccountWatcher(account_on(server), MastodonConnector())
    watcher.start()
    try:
        assert fetches[1].wait(WAIT), "not connected again"
        deadline = time.monotonic() + WAIT
        while len(server.seen("GET", STREAM)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        watcher.stop()
        watcher.join(WAIT)
    assert watcher.failures >= 1 and len(server.seen("GET", STREAM)) >= 2


def test_only_mentions_wake_the_watch():
    mentions = mastodon_connector._Mentions()
    for kind in ("favourite", "reblog", "follow", "poll", "status", "update"):
        mentions.on_notification({"type": kind})
    assert not mentions.heard.is_set()
    mentions.on_unknown_event("notifications_merged", {})  # a newer server's event
    mentions.on_notification({"type": "mention"})
    assert mentions.heard.is_set()


def test_a_refused_token_is_logged_and_not_retried_at_once(transactional_db, server, fetches,
                                                          caplog):
    account = account_on(server, token="revoked")
    watcher = AccountWatcher(account, MastodonConnector())
    with caplog.at_level(logging.WARNING, logger="socialdesk.connectors.watching"):
        assert first_failure(watcher, WAIT) == 1
    assert not watcher.is_alive() and not fetches[0].is_set()
    assert "refused the access token" in caplog.text
    assert server.seen("GET", STREAM) == []
