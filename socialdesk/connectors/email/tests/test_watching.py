"""Hearing a mailbox at once: IMAP IDLE on the real test server tells the watcher
(connectors.watching) of new mail, which has the account fetched by the clock's
own path; no clock runs in these tests, so a post that arrives came that way."""

import logging
import time

import pytest

from socialdesk.connectors import listening
from socialdesk.connectors.email import connector as email_connector
from socialdesk.connectors.email.connector import EmailConnector
from socialdesk.connectors.email.tests.conftest import make_account
from socialdesk.connectors.email.tests.test_listening import mail
from socialdesk.connectors.models import ChannelAccount
from socialdesk.connectors.tests.watched import counted_fetches, first_failure
from socialdesk.connectors.watching import AccountWatcher, Watchers
from socialdesk.ingestion.models import Post

WAIT = 30  # seconds; the server announces new mail within a second or two


@pytest.fixture
def heard(monkeypatch):
    """Each fetch a watcher has made, as an event set once it is done: the test
    waits on it instead of reading the database while the watcher writes."""
    monkeypatch.setattr(email_connector, "WATCH_SECONDS", 1)
    return counted_fetches(monkeypatch)


def external_ids() -> list[str]:
    return sorted(Post.objects.values_list("external_id", flat=True))


def test_new_mail_is_fetched_as_soon_as_the_server_announces_it(transactional_db, teams, mailbox,
                                                                heard):
    account = make_account(mailbox)
    watcher = AccountWatcher(account, EmailConnector())
    watcher.start()
    try:
        assert heard[0].wait(WAIT), "no fetch on connecting"
        assert external_ids() == []
        mailbox.deliver(mail(1))
        assert heard[1].wait(WAIT), "the server's news of mail 1 was not heard"
        assert external_ids() == ["m1@mail.example.org"]
        mailbox.deliver(mail(2))
        mailbox.deliver(mail(3))
        assert heard[2].wait(WAIT), "the server's news of mails 2 and 3 was not heard"
    finally:
        watcher.stop()
        watcher.join(WAIT)
    assert not watcher.is_alive()
    deadline = time.monotonic() + WAIT  # mail 3 may have come in a fetch of its own
    while len(external_ids()) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert external_ids() == [f"m{n}@mail.example.org" for n in (1, 2, 3)]
    fresh = ChannelAccount.objects.get(pk=account.pk)
    assert fresh.checkpoint["uid"] == 3 and fresh.last_error == ""


def test_a_refused_sign_in_is_logged_and_not_retried_at_once(transactional_db, mailbox, heard,
                                                             caplog):
    account = make_account(mailbox, password="not the password")
    watcher = AccountWatcher(account, EmailConnector())
    with caplog.at_level(logging.WARNING, logger="socialdesk.connectors.watching"):
        # One failure: it waits MAX_RETRY_SECONDS before the next try.
        assert first_failure(watcher, WAIT) == 1
    assert not watcher.is_alive()
    assert not heard[0].is_set()
    assert "refused the sign-in" in caplog.text and "polled only" in caplog.text


def test_the_watchers_follow_the_accounts(db, mailbox, monkeypatch, tmp_path):
    """Accounts connected, paused, changed and removed are watched or not on the
    next look; a listener that cannot watch (the folder) is only polled."""
    ran: list[int] = []

    def run(self):  # no connection: the test is about which watches run
        ran.append(self.account.pk)
        self.stopping.wait()

    monkeypatch.setattr(AccountWatcher, "run", run)
    email = make_account(mailbox)
    ChannelAccount.objects.create(channel="x", handle="brand", listener="folder",
                                  config={"path": str(tmp_path)})
    watchers = Watchers()
    watchers.look()
    assert list(watchers.watching) == [email.pk]
    first = watchers.watching[email.pk]

    watchers.look()
    assert watchers.watching[email.pk] is first  # unchanged: the same watch goes on

    email.config = {**email.config, "folder": "Support"}
    email.save()
    watchers.look()
    assert first.stopping.is_set() and watchers.watching[email.pk] is not first

    ChannelAccount.objects.filter(pk=email.pk).update(is_active=False)
    second = watchers.watching[email.pk]
    watchers.look()
    assert watchers.watching == {} and second.stopping.is_set()
    assert ran == [email.pk, email.pk]


def test_news_during_a_fetch_waits_for_it_and_scale_out_hands_it_to_a_worker(
        db, mailbox, settings, monkeypatch):
    account = make_account(mailbox)
    settings.SCALE_OUT = True
    queued = []
    monkeypatch.setattr(listening.queue, "enqueue",
                        lambda task, *args: queued.append((task.name, args)) or True)

    assert listening.do_hear_now(account.pk) is True
    assert [name for name, _ in queued] == ["connectors.poll_account"]
    # Claimed by that fetch: news now must wait for it to end.
    assert listening.do_hear_now(account.pk) is False
    assert len(queued) == 1
    ChannelAccount.objects.filter(pk=account.pk).update(is_active=False)
    assert listening.do_hear_now(account.pk) is True  # paused: nothing to hear
    assert len(queued) == 1
