"""Hearing posts: each account with a listener is fetched from on the clock, and what
it fetches goes through the same path as an import (stored once, under its channel
and external id; bad items reported; processed, or queued for the workers).

The checkpoint moves only after the posts fetched before it are stored: a crash in
between fetches them again, and they come back as duplicates, so nothing is lost
and nothing is stored twice. Every fetch first claims the account (a conditional
update of `claimed_until`), so an account is fetched once at a time, whether the
clock, an admin's "Fetch now" or a platform's news (connectors.watching) asked.
Errors keep their kind: a retryable one (the platform down, a rate limit) is
tried again after the wait the platform asked for, or the account's interval;
one that needs new credentials or a change of settings stops fetching until an
admin acts, with the platform's message on the account.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from socialdesk.audit.actions import do_record
from socialdesk.cases.outbox import do_note_undelivered
from socialdesk.connectors.base import ConnectorError
from socialdesk.connectors.models import ChannelAccount
from socialdesk.connectors.registry import listener_for
from socialdesk.lib import queue
from socialdesk.pipeline import QueueUnavailable, ingest

logger = logging.getLogger(__name__)

# Fetches of one account in one tick, while it says more is waiting, and the
# posts a tick stores, in batches of PIPELINE_BATCH_SIZE: the clock must keep
# time for everything else too.
MAX_FETCHES = 50
MAX_BATCHES = 10
# How long a claimed account stays claimed if the fetch dies with its process.
CLAIM = timedelta(minutes=10)


@dataclass
class PollReport:
    fetched: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""
    undelivered: int = 0  # replies of ours the platform reported undelivered


def check_account(account: ChannelAccount) -> tuple[bool, str]:
    """Whether the account's listener reaches the platform, and what it says."""
    try:
        return True, listener_for(account).check(account)
    except ConnectorError as e:
        return False, f"{e} ({e.kind})"


def fetch_now(account: ChannelAccount) -> tuple[bool, str]:
    """Fetch from the account at once (an admin's "Fetch now"); whether it worked and
    what came of it, in words."""
    if not account.listener or not account.is_active:
        return False, f"{account} is paused or hears nothing: resume it first"
    report = do_poll_account(account, anytime=True)
    if report is None:
        return False, f"{account}: a fetch is under way already"
    if report.error:
        return False, f"{account}: {report.error}"
    return True, (f"{account}: {report.fetched} fetched, {report.created} new, "
                  f"{len(report.rejected)} not posts")


def due_accounts(now: datetime):
    return ChannelAccount.objects.filter(
        Q(next_poll_at__lte=now) | Q(next_poll_at__isnull=True, last_polled_at__isnull=True),
        is_active=True).exclude(listener="")


def do_poll_due(now: datetime | None = None) -> int:
    """Fetch from every account that is due; how many were fetched from (scale-out:
    handed to the workers, one task per account, so that a slow platform holds up
    neither the clock nor the other accounts)."""
    now = now or timezone.now()
    polled = 0
    for account in due_accounts(now).order_by("id"):
        if not settings.SCALE_OUT:
            polled += do_poll_account(account, now) is not None
        elif _claim(account, now):
            # A lost message leaves the claim to lapse: a later tick queues it again.
            polled += queue.enqueue(poll_account, account.pk, now.isoformat())
    return polled


def do_hear_now(account_id: int, now: datetime | None = None) -> bool:
    """The platform said something arrived for the account (connectors.watching):
    fetch it now (embedded) or hand it to a worker (scale-out), through the same
    claim as the clock's poll. False when another fetch holds the account, whose
    reading may have begun before the news: the caller tries again shortly."""
    now = now or timezone.now()
    account = ChannelAccount.objects.filter(pk=account_id, is_active=True).exclude(
        listener="").first()
    if account is None:
        return True  # paused or removed meanwhile: nothing to hear
    if not settings.SCALE_OUT:
        return do_poll_account(account, now, anytime=True) is not None
    if not _claim(account, now, anytime=True):
        return False
    # A lost message leaves the claim to lapse, and the clock's poll to fetch.
    queue.enqueue(poll_account, account.pk, now.isoformat())
    return True


def _claim(account: ChannelAccount, now: datetime, anytime: bool = False) -> bool:
    """Hold the account for one fetch, unless another holds it (a conditional update:
    two callers, one claim). Unless `anytime`, only while the account is as it was
    read when found due: a tick that read it before an overlapping tick's fetch
    ended does not fetch it again."""
    free = ChannelAccount.objects.filter(Q(claimed_until__isnull=True)
                                         | Q(claimed_until__lte=now), pk=account.pk)
    if not anytime:
        free = free.filter(next_poll_at=account.next_poll_at,
                           last_polled_at=account.last_polled_at)
    return bool(free.update(claimed_until=now + CLAIM))


@shared_task(name="connectors.poll_account", ignore_result=True)
def poll_account(account_id: int, claimed_at: str) -> None:
    """A worker's fetch of an account the clock claimed at `claimed_at`; nothing when
    the claim is no longer that one (it lapsed and another fetch took the account)."""
    claimed_at = datetime.fromisoformat(claimed_at)
    account = ChannelAccount.objects.filter(pk=account_id, claimed_until=claimed_at + CLAIM,
                                            is_active=True).first()
    if account is not None:
        do_poll_account(account, claimed=True)


def do_poll_account(account: ChannelAccount, now: datetime | None = None,
                    claimed: bool = False, anytime: bool = False) -> PollReport | None:
    """Fetch what the account's listener has, store it, move the checkpoint. None
    when another fetch holds the account (see `_claim` for `anytime`)."""
    now = now or timezone.now()
    if not claimed and not _claim(account, now, anytime):
        return None
    report = PollReport()
    checkpoint = dict(account.checkpoint)
    wait = timedelta(seconds=account.poll_seconds)
    size = settings.PIPELINE_BATCH_SIZE
    # Platforms' pages are small (40 posts on Mastodon): pages are gathered into
    # the pipeline's batches, whose cost is mostly per batch. The checkpoint
    # stored is always the one just after the posts stored.
    batch: list = []
    stored = dict(checkpoint)

    def store():
        nonlocal batch, stored
        if batch:
            try:
                result = ingest(batch, source=f"listen:{listener.name}"[:32])
            except QueueUnavailable as e:
                result = e.result  # stored: the sweeper queues them later
            report.created += len(result.created)
            report.duplicates += result.duplicates
            batch = []
        if checkpoint != stored:
            ChannelAccount.objects.filter(pk=account.pk).update(checkpoint=checkpoint)
            stored = dict(checkpoint)

    try:
        listener = listener_for(account)
        for _ in range(MAX_FETCHES):
            fetched = listener.fetch(account, checkpoint, size - len(batch))
            report.fetched += len(fetched.records)
            report.rejected += fetched.rejected
            for record in fetched.records:
                # Replies to it go out from this account (connectors.registry).
                record.account = record.account or account.handle
            batch += fetched.records
            if fetched.undelivered:
                report.undelivered += do_note_undelivered(account.channel, fetched.undelivered)
            checkpoint = fetched.checkpoint
            if len(batch) >= size or not fetched.more:
                store()
            if not fetched.more:
                break
            if report.fetched >= MAX_BATCHES * size:
                store()
                wait = timedelta(0)  # more is waiting: the next tick goes on
                break
        else:
            store()
            wait = timedelta(0)
    except ConnectorError as e:
        store()  # what was fetched before the error is kept, and its checkpoint
        report.error = str(e)
        stop = e.kind in (ConnectorError.REAUTHORISE, ConnectorError.PERMANENT)
        retry = timedelta(seconds=e.retry_after) if e.retry_after else wait
        ChannelAccount.objects.filter(pk=account.pk).update(
            last_polled_at=now, last_error=str(e)[:2000], error_kind=e.kind,
            next_poll_at=None if stop else now + retry, claimed_until=None)
        if account.error_kind != e.kind or account.last_error != str(e)[:2000]:
            do_record("account.fetch_failed", account=account.pk, channel=account.channel,
                      handle=account.handle, kind=e.kind, error=str(e)[:500])
        logger.warning("fetching for %s failed (%s): %s", account, e.kind, e)
        return report
    ChannelAccount.objects.filter(pk=account.pk).update(
        last_polled_at=now, next_poll_at=now + wait, last_error="", error_kind="",
        claimed_until=None)
    if report.rejected:
        do_record("account.items_rejected", account=account.pk, channel=account.channel,
                  handle=account.handle, count=len(report.rejected),
                  first=[f"{where}: {why}" for where, why in report.rejected[:20]])
    return report
