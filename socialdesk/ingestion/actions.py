"""Store posts first: idempotent on (channel, external_id), threaded by reply links."""

import zlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from socialdesk.contacts.actions import do_resolve_identities
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.queries import (
    PostRow,
    parent_ids,
    queued_long_ago,
    unprocessed_posts,
)
from socialdesk.ingestion.records import Record
from socialdesk.lib.bulk import bulk_update_fields, insert_new_rows


@dataclass
class IngestResult:
    created: list[int] = field(default_factory=list)
    duplicates: int = 0
    # Posts stored earlier, not processed yet, whose parent arrived in this batch.
    adopted: list[int] = field(default_factory=list)
    # Duplicates stored earlier and never processed (their run died, or their
    # queue message was lost): sent again, they are processed again.
    waiting: list[int] = field(default_factory=list)


def _existing_ids(channel: str, external_ids: list[str]) -> dict[str, int]:
    found = {}
    for start in range(0, len(external_ids), 900):
        chunk = external_ids[start:start + 900]
        found.update(Post.objects.filter(channel=channel, external_id__in=chunk)
                     .values_list("external_id", "id"))
    return found


@transaction.atomic
def do_store_posts(records: list[Record], source: str = "import") -> IngestResult:
    """Insert the records that are new; link replies to parents in either order."""
    result = IngestResult()
    by_channel: dict[str, list[Record]] = defaultdict(list)
    seen = set()
    for record in records:
        key = (record.channel, record.external_id)
        if key in seen:
            result.duplicates += 1
            continue
        seen.add(key)
        by_channel[record.channel].append(record)

    new: list[Record] = []
    for channel, items in by_channel.items():
        existing = _existing_ids(channel, [r.external_id for r in items])
        result.duplicates += len(existing)
        if existing:
            result.waiting += _waiting(existing.values())
        new.extend(r for r in items if r.external_id not in existing)
    if not new:
        return result

    identities = do_resolve_identities(
        {(r.channel, r.author): (r.author_name, r.author_followers) for r in new},
        {(r.channel, r.author): (r.author_email, r.author_avatar) for r in new
         if r.author_email or r.author_avatar},
    )
    parents = _known_parents(new)
    now = timezone.now()
    fields = ["channel", "external_id", "direction", "visibility", "author", "text", "created_at",
              "in_reply_to", "parent", "url", "account", "lang", "followers", "source",
              "is_automated", "raw", "ingested_at"]
    # Oldest first (ties in batch order): concurrent batches that share posts
    # then insert them, and wait for each other, in the same order.
    rows = [
        (r.channel, r.external_id, r.direction, r.visibility, identities[(r.channel, r.author)],
         r.text, r.created_at, r.in_reply_to, parents.get((r.channel, r.in_reply_to)), r.url,
         r.account, r.lang, r.author_followers, source, False, r.extra, now)
        for r in sorted(new, key=lambda r: r.created_at)
    ]
    inserted = insert_new_rows(Post, fields, rows, unique=("channel", "external_id"))
    if len(inserted) < len(new):
        # Stored by a concurrent import since the look-up above: duplicates too.
        # What follows threads only the posts this call stored.
        skipped = {(r.channel, r.external_id) for r in new} - inserted.keys()
        result.duplicates += len(skipped)
        new = [r for r in new if (r.channel, r.external_id) in inserted]
        _thread_to_skipped(new, [inserted[(r.channel, r.external_id)] for r in new], parents,
                           skipped)
    result.created = [inserted[(r.channel, r.external_id)] for r in new]
    _thread_within_batch(new, result.created, parents)
    result.adopted = _adopt_orphans(new, set(result.created))
    return result


def _thread_to_skipped(records: list[Record], ids: list[int], parents: dict,
                       skipped: set[tuple[str, str]]) -> None:
    """Link the replies whose parent was in the batch but stored by a concurrent
    import: that row is committed (the insert waited for it), so it can be read."""
    replies = [(r, pk) for r, pk in zip(records, ids, strict=True)
               if (r.channel, r.in_reply_to) in skipped
               and (r.channel, r.in_reply_to) not in parents]
    if not replies:
        return
    found = _known_parents([r for r, _ in replies])
    bulk_update_fields([PostParent(pk, found[(r.channel, r.in_reply_to)]) for r, pk in replies
                        if (r.channel, r.in_reply_to) in found], ["parent"], model=Post)


def _waiting(ids) -> list[int]:
    """Of these stored posts, those never processed and not on their way (not
    queued, or queued longer ago than a worker may hold a task)."""
    on_its_way = Q(queued_at__isnull=True) | queued_long_ago(timezone.now())
    return list(unprocessed_posts().filter(on_its_way, id__in=list(ids))
                .values_list("id", flat=True))


def _known_parents(records: list[Record]) -> dict[tuple[str, str], int]:
    """Ids of the stored posts these records reply to."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for r in records:
        if r.in_reply_to:
            wanted[r.channel].add(r.in_reply_to)
    parents = {}
    for channel, external_ids in wanted.items():
        for external_id, pk in _existing_ids(channel, sorted(external_ids)).items():
            parents[(channel, external_id)] = pk
    return parents


def _thread_within_batch(records: list[Record], ids: list[int], parents: dict) -> None:
    """Link replies whose parent came in the same batch, in whatever order."""
    by_key = {(r.channel, r.external_id): pk for r, pk in zip(records, ids, strict=True)}
    linked = [
        PostParent(pk, by_key[(r.channel, r.in_reply_to)])
        for r, pk in zip(records, ids, strict=True)
        if r.in_reply_to and (r.channel, r.in_reply_to) not in parents
        and (r.channel, r.in_reply_to) in by_key and by_key[(r.channel, r.in_reply_to)] != pk
    ]
    bulk_update_fields(linked, ["parent"], model=Post)


@dataclass(slots=True)
class PostParent:
    pk: int
    parent_id: int


def _adopt_orphans(records: list[Record], new_ids: set[int]) -> list[int]:
    """Replies stored earlier than their parent and not processed yet: thread them
    now. Returns their ids, for the caller to process.

    Replies processed already are left alone: the parent's processing links and
    files them (cases.grouping), which holds even if this process dies before it
    processes anything. Rows another transaction holds are skipped, not waited
    for (a store never waits on processing): processing links them itself.
    """
    adopted = []
    by_channel: dict[str, list[str]] = defaultdict(list)
    for r in records:
        by_channel[r.channel].append(r.external_id)
    for channel, external_ids in by_channel.items():
        for start in range(0, len(external_ids), 900):
            chunk = external_ids[start:start + 900]
            orphans = (Post.objects.filter(channel=channel, parent__isnull=True,
                                           in_reply_to__in=chunk, processed_at__isnull=True)
                       .select_for_update(skip_locked=True, no_key=True).order_by("id"))
            orphan_ids = [pk for pk in orphans.values_list("id", flat=True) if pk not in new_ids]
            if orphan_ids:
                parent = Post.objects.filter(channel=channel, external_id=OuterRef("in_reply_to"))
                Post.objects.filter(id__in=orphan_ids).update(
                    parent=Subquery(parent.values("id")[:1])
                )
                adopted.extend(orphan_ids)
    return adopted


def link_parents(rows: list[PostRow]) -> None:
    """Set `parent_id` on the rows (being processed) whose parent is stored by now.

    A reply stored while its parent was not visible (stored later, or by an
    import not committed yet) is linked here at the latest; the caller writes it.
    """
    unlinked = [r for r in rows if r.in_reply_to and r.parent_id is None
                and r.in_reply_to != r.external_id]
    if not unlinked:
        return
    found = parent_ids({(r.channel, r.in_reply_to) for r in unlinked})
    for r in unlinked:
        r.parent_id = found.get((r.channel, r.in_reply_to))


# pg_advisory_xact_lock's first key: the filing of posts, per channel (the second key).
_FILING_LOCK = 0x5D0C


def lock_filing(post_ids: list[int]) -> list[str]:
    """Hold, until the transaction ends, the filing of posts on these posts' channels;
    returns the channels (PostgreSQL; nothing on SQLite).

    Filing reads what earlier filings decided (a parent's case, the replies
    processed before their parent, a person's open cases) and may change it;
    two filings on one channel at once could each miss the other's posts
    (PostgreSQL, read committed). Taken before any post row lock, in one
    order, so that no two filings wait on each other. SQLite has one writer.
    """
    if connection.vendor != "postgresql" or not post_ids:
        return []
    channels = sorted(set(Post.objects.filter(id__in=post_ids)
                          .values_list("channel", flat=True).distinct()))
    keys = sorted({zlib.crc32(channel.encode()) - 2**31 for channel in channels})
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_FILING_LOCK, key])
    return channels


def claim_waiting(channels: list[str], exclude: list[int], limit: int) -> list[int]:
    """Up to `limit` posts on these channels queued for the workers and waiting
    unprocessed (not set aside), oldest first, locked until the transaction ends;
    rows another transaction holds are skipped (PostgreSQL).

    The caller holds the channels' filing locks (`lock_filing`), so that no
    filing waits on these rows while this one waits on it. Posts not yet
    stamped as queued are left to their request, which is about to stamp them
    (and would wait for these locks), or to the sweeper."""
    if connection.vendor != "postgresql" or not channels or limit < 1:
        return []
    return list(unprocessed_posts().filter(channel__in=channels, queued_at__isnull=False)
                .exclude(id__in=exclude)
                .order_by("id")
                .select_for_update(skip_locked=True, of=("self",), no_key=True)
                .values_list("id", flat=True)[:limit])
