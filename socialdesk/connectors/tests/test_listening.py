"""Hearing posts through a listener: the folder listener, and the clock's fetches with
their checkpoint, errors and claims."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from socialdesk.audit.models import Event
from socialdesk.cases.clock import tick
from socialdesk.cases.models import Case
from socialdesk.connectors import listening, registry
from socialdesk.connectors.base import ConnectorError, Fetched
from socialdesk.connectors.file.listener import FolderListener
from socialdesk.connectors.models import ChannelAccount
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.records import check_record
from socialdesk.lib import queue


def post(n: int, **extra) -> dict:
    return {"channel": "x", "external_id": f"f{n}", "author": f"person{n % 7}",
            "text": f"my order {n} never arrived, can you help?",
            "created_at": "2026-12-01T09:00:00+00:00", **extra}


def drop(folder, name: str, records: list, tail: bytes = b"") -> None:
    lines = b"".join(json.dumps(r).encode() + b"\n" if isinstance(r, dict) else r
                     for r in records)
    (folder / name).write_bytes(lines + tail)


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "drop"
    path.mkdir()
    return path


@pytest.fixture
def account(db, folder):
    return ChannelAccount.objects.create(channel="x", handle="brand", listener="folder",
                                         config={"directory": str(folder)})


def test_dropped_files_are_heard_in_order_once(teams, folder, account, settings):
    settings.PIPELINE_BATCH_SIZE = 4
    drop(folder, "2026-12-01.jsonl", [post(n) for n in range(6)])
    drop(folder, "2026-12-02.jsonl", [post(n) for n in range(6, 9)] + [b"not json\n"])

    report = listening.do_poll_account(account)
    assert (report.fetched, report.created) == (9, 9)
    assert report.rejected[0][0] == "2026-12-02.jsonl:4"
    assert Post.objects.filter(source="listen:folder", processed_at__isnull=False).count() == 9
    assert Case.objects.count() == 9
    account.refresh_from_db()
    assert account.checkpoint["file"] == "2026-12-02.jsonl" and not account.last_error
    assert Event.objects.get(verb="account.items_rejected").data["count"] == 1

    # Nothing new: nothing fetched. A new file, and more lines in the last one: those.
    account.next_poll_at = timezone.now()
    account.save()
    assert listening.do_poll_account(account).fetched == 0
    with (folder / "2026-12-02.jsonl").open("ab") as more:
        more.write(json.dumps(post(9)).encode() + b"\n")
    drop(folder, "2026-12-03.jsonl", [post(10)])
    account.refresh_from_db()
    assert listening.do_poll_account(account).created == 2
    assert Post.objects.count() == 11


def test_a_line_still_being_written_waits_and_so_do_later_files(teams, folder, account):
    drop(folder, "a.jsonl", [post(1)], tail=json.dumps(post(2)).encode()[:30])
    drop(folder, "b.jsonl", [post(3)])
    assert listening.do_poll_account(account).fetched == 1

    (folder / "a.jsonl").write_bytes(json.dumps(post(1)).encode() + b"\n"
                                     + json.dumps(post(2)).encode() + b"\n")
    account.refresh_from_db()
    assert listening.do_poll_account(account).fetched == 2
    assert set(Post.objects.values_list("external_id", flat=True)) == {"f1", "f2", "f3"}


def test_a_crash_before_the_checkpoint_is_saved_stores_nothing_twice(teams, folder, account,
                                                                      monkeypatch):
    drop(folder, "a.jsonl", [post(n) for n in range(3)])
    saved = ChannelAccount.objects.filter(pk=account.pk)
    real_update = type(saved).update

    def die_on_checkpoint(self, **fields):
        if "checkpoint" in fields:
            raise SystemExit("the process died here")
        return real_update(self, **fields)

    monkeypatch.setattr(type(saved), "update", die_on_checkpoint)
    with pytest.raises(SystemExit):
        listening.do_poll_account(account)
    monkeypatch.undo()
    assert Post.objects.count() == 3

    # The claim lapses; the next fetch reads the same lines again.
    lapsed = timezone.now() - timedelta(seconds=1)
    ChannelAccount.objects.filter(pk=account.pk).update(next_poll_at=lapsed, claimed_until=lapsed)
    account.refresh_from_db()
    report = listening.do_poll_account(account)
    assert (report.fetched, report.created, report.duplicates) == (3, 0, 3)
    assert Post.objects.count() == 3


class Failing:
    name = "failing"
    error = ConnectorError("rate limited", retry_after=120)

    def fetch(self, account, checkpoint, limit):
        raise self.error


@pytest.fixture
def failing(monkeypatch, db):
    monkeypatch.setitem(registry.CONNECTORS, "failing", Failing)
    return ChannelAccount.objects.create(channel="mastodon", handle="brand@example.social",
                                         listener="failing")


def test_errors_wait_as_the_platform_asks_or_stop_until_an_admin_acts(failing):
    now = timezone.now()
    assert listening.do_poll_account(failing, now).error == "rate limited"
    failing.refresh_from_db()
    assert (failing.error_kind, failing.next_poll_at) == ("retryable", now + timedelta(seconds=120))
    assert not listening.due_accounts(now + timedelta(seconds=119)).exists()
    assert listening.due_accounts(now + timedelta(seconds=120)).exists()

    Failing.error = ConnectorError("the token was revoked", ConnectorError.REAUTHORISE)
    listening.do_poll_account(failing, now + timedelta(seconds=120))
    failing.refresh_from_db()
    assert (failing.error_kind, failing.last_error) == ("reauthorise", "the token was revoked")
    assert failing.next_poll_at is None
    assert not listening.due_accounts(now + timedelta(days=30)).exists()
    assert list(Event.objects.filter(verb="account.fetch_failed")
                .values_list("data__kind", flat=True).order_by("id")) == \
        ["retryable", "reauthorise"]


class Paged:
    """A platform of fifteen posts in pages of up to three, which fails at a given post."""
    name = "paged"
    fails_at, limits = None, []

    def fetch(self, account, checkpoint, limit):
        at = checkpoint.get("at", 0)
        Paged.limits.append(limit)
        if at == self.fails_at:
            raise ConnectorError("the server went away")
        page = range(at, min(at + 3, at + limit, 15))
        return Fetched(records=[check_record(post(n), 1000) for n in page],
                       checkpoint={"at": page.stop}, more=page.stop < 15)


@pytest.fixture
def paged(monkeypatch, teams):
    monkeypatch.setitem(registry.CONNECTORS, "paged", Paged)
    monkeypatch.setattr(Paged, "limits", [])
    batches = []
    real_ingest = listening.ingest
    monkeypatch.setattr(listening, "ingest",
                        lambda records, **kw: batches.append(len(records)) or
                        real_ingest(records, **kw))
    account = ChannelAccount.objects.create(channel="x", handle="brand", listener="paged")
    return account, batches


def test_small_pages_are_stored_in_the_pipelines_batches(paged, settings):
    account, batches = paged
    settings.PIPELINE_BATCH_SIZE = 7
    report = listening.do_poll_account(account)
    assert (report.fetched, report.created) == (15, 15)
    # Pages of three are gathered up to seven; a fetch asks for no more than fits.
    assert batches == [7, 7, 1] and Paged.limits == [7, 4, 1, 7, 4, 1, 7]
    account.refresh_from_db()
    assert account.checkpoint == {"at": 15}
    assert Post.objects.filter(processed_at__isnull=False).count() == 15


def test_what_was_fetched_before_an_error_is_kept_with_its_checkpoint(paged, settings,
                                                                     monkeypatch):
    account, batches = paged
    settings.PIPELINE_BATCH_SIZE = 100
    monkeypatch.setattr(Paged, "fails_at", 9)
    report = listening.do_poll_account(account)
    assert report.error == "the server went away" and report.created == 9
    assert batches == [9]
    account.refresh_from_db()
    assert account.checkpoint == {"at": 9} and account.error_kind == "retryable"

    # Once the server is back, the fetch goes on after what was stored.
    monkeypatch.setattr(Paged, "fails_at", None)
    ChannelAccount.objects.filter(pk=account.pk).update(next_poll_at=timezone.now())
    account.refresh_from_db()
    report = listening.do_poll_account(account)
    assert (report.fetched, report.created, report.duplicates) == (6, 6, 0)
    assert Post.objects.count() == 15


def test_an_account_is_fetched_by_one_tick_at_a_time(failing):
    stale = ChannelAccount.objects.get(pk=failing.pk)
    assert listening.do_poll_account(failing) is not None
    assert listening.do_poll_account(stale) is None  # the other tick's view: already claimed


def test_fetch_now_waits_for_a_fetch_under_way_and_not_for_the_schedule(account, folder):
    drop(folder, "a.jsonl", [post(1)])
    now = timezone.now()
    # Not due for an hour, and held by a fetch that started a moment ago.
    ChannelAccount.objects.filter(pk=account.pk).update(
        next_poll_at=now + timedelta(hours=1), claimed_until=now + listening.CLAIM)
    account.refresh_from_db()
    worked, said = listening.fetch_now(account)
    assert not worked and "under way" in said and Post.objects.count() == 0

    ChannelAccount.objects.filter(pk=account.pk).update(claimed_until=None)
    account.refresh_from_db()
    assert listening.fetch_now(account)[0] and Post.objects.count() == 1
    account.refresh_from_db()
    assert account.claimed_until is None and account.next_poll_at > now


def test_a_missing_folder_is_a_setting_to_fix(account, folder):
    folder.rmdir()
    report = listening.do_poll_account(account)
    account.refresh_from_db()
    assert "is not a directory" in report.error and account.error_kind == "permanent"


def test_paused_and_listenerless_accounts_are_not_fetched(db, account):
    ChannelAccount.objects.create(channel="x", handle="other")
    assert list(listening.due_accounts(timezone.now())) == [account]
    account.is_active = False
    account.save()
    assert not listening.due_accounts(timezone.now()).exists()


def test_the_clock_fetches_due_accounts(teams, folder, account):
    drop(folder, "a.jsonl", [post(1)])
    assert tick()["accounts_polled"] == 1
    assert Post.objects.filter(source="listen:folder").count() == 1
    assert tick()["accounts_polled"] == 0  # not due again for poll_seconds


def test_the_folder_listener_reads_a_batch_at_a_time(folder, account):
    drop(folder, "a.jsonl", [post(n) for n in range(5)])
    first = FolderListener().fetch(account, {}, 3)
    assert (len(first.records), first.more) == (3, True)
    rest = FolderListener().fetch(account, first.checkpoint, 3)
    assert ([r.external_id for r in rest.records], rest.more) == (["f3", "f4"], False)
    assert isinstance(rest, Fetched) and rest.checkpoint["line"] == 5


def test_an_admin_checks_the_connection_and_fetches_now(client, admin_user, teams, folder,
                                                        account):
    drop(folder, "a.jsonl", [post(1), post(2)])
    assert listening.check_account(account) == (True, f"reads {folder}: 1 .jsonl file")
    client.force_login(admin_user)
    url = "/admin/connectors/channelaccount/"
    answer = client.post(url, {"action": "check_connection", "_selected_action": [account.pk]},
                         follow=True)
    assert f"reads {folder}" in answer.content.decode()
    answer = client.post(url, {"action": "fetch_now", "_selected_action": [account.pk]},
                         follow=True)
    assert "2 fetched, 2 new, 0 not posts" in answer.content.decode()
    assert Post.objects.count() == 2

    folder.joinpath("a.jsonl").unlink()
    folder.rmdir()
    ok, said = listening.check_account(account)
    assert not ok and "is not a directory" in said and "(permanent)" in said


def test_scale_out_hands_each_due_account_to_the_workers_once(teams, folder, account, settings,
                                                              monkeypatch):
    settings.SCALE_OUT = True
    sent = []
    monkeypatch.setattr(queue, "enqueue", lambda task, *args: sent.append((task, args)) or True)
    drop(folder, "a.jsonl", [post(1)])

    now = timezone.now()
    assert listening.do_poll_due(now) == 1
    assert listening.do_poll_due(now) == 0, "claimed: a second tick queues nothing"
    (task, args), = sent
    assert task is listening.poll_account and args[0] == account.pk
    assert not Post.objects.exists()

    task(*args)  # the worker
    assert Post.objects.count() == 1
    account.refresh_from_db()
    assert account.last_polled_at is not None and account.next_poll_at > now
    task(*args)  # the same message delivered twice: the claim is gone, nothing fetched
    assert Post.objects.count() == 1
