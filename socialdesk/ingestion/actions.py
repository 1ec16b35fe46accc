"""Store posts first: idempotent on (channel, external_id), threaded by reply links."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from socialdesk.contacts.actions import do_resolve_identities
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.records import Record
from socialdesk.lib.bulk import bulk_update_fields, insert_rows


@dataclass
class IngestResult:
    created: list[int] = field(default_factory=list)
    duplicates: int = 0
    # Posts stored earlier whose parent arrived in this batch.
    adopted: list[int] = field(default_factory=list)


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
        new.extend(r for r in items if r.external_id not in existing)
    if not new:
        return result

    identities = do_resolve_identities(
        {(r.channel, r.author): (r.author_name, r.author_followers) for r in new}
    )
    now = timezone.now()
    fields = ["channel", "external_id", "direction", "visibility", "author", "text", "created_at",
              "in_reply_to", "url", "lang", "followers", "source", "is_automated", "raw",
              "ingested_at"]
    rows = [
        (r.channel, r.external_id, r.direction, r.visibility,
         identities[(r.channel, r.author)].pk, r.text, r.created_at, r.in_reply_to, r.url, r.lang,
         r.author_followers, source, False, r.extra, now)
        for r in new
    ]
    ids = insert_rows(Post, fields, rows)
    posts = [Post(id=pk, channel=r.channel, external_id=r.external_id,
                  in_reply_to=r.in_reply_to) for pk, r in zip(ids, new, strict=True)]
    result.created = [p.id for p in posts]
    _link_parents(posts, result)
    return result


def _link_parents(posts: list[Post], result: IngestResult) -> None:
    by_channel: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        by_channel[post.channel].append(post)
    new_ids = set(result.created)
    for channel, items in by_channel.items():
        wanted = sorted({p.in_reply_to for p in items if p.in_reply_to})
        parents = _existing_ids(channel, wanted) if wanted else {}
        linked = []
        for post in items:
            parent_id = parents.get(post.in_reply_to)
            if parent_id and parent_id != post.id:
                post.parent_id = parent_id
                linked.append(post)
        if linked:
            bulk_update_fields(linked, ["parent"])
        # Replies stored before their parent: thread them now.
        external_ids = [p.external_id for p in items]
        for start in range(0, len(external_ids), 900):
            chunk = external_ids[start:start + 900]
            orphans = Post.objects.filter(channel=channel, parent__isnull=True,
                                          in_reply_to__in=chunk)
            orphan_ids = [pk for pk in orphans.values_list("id", flat=True) if pk not in new_ids]
            if orphan_ids:
                parent = Post.objects.filter(channel=channel, external_id=OuterRef("in_reply_to"))
                Post.objects.filter(id__in=orphan_ids).update(
                    parent=Subquery(parent.values("id")[:1])
                )
                result.adopted.extend(orphan_ids)
