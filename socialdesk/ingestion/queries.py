from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from socialdesk.ingestion.models import Post

_COLUMNS = ("id", "channel", "external_id", "direction", "visibility", "text", "created_at",
            "parent_id", "followers", "lang", "is_automated", "case_id", "processed_at",
            "author__contact_id", "author__contact__tier", "author__followers",
            "author__contact__account_owner__username", "account", "in_reply_to")


def unprocessed_posts():
    """Posts stored and never processed, but for those set aside with an error."""
    return Post.objects.filter(processed_at__isnull=True, process_error="")


def queued_long_ago(now: datetime) -> Q:
    """Queued longer ago than a worker may hold a task: if still unprocessed, its
    message was lost (with a worker, or with a broker that kept nothing)."""
    return Q(queued_at__lt=now - timedelta(seconds=settings.TASK_VISIBILITY_TIMEOUT_SECONDS))


@dataclass(slots=True)
class PostRow:
    """What the pipeline needs of a stored post: a plain row, no model instance.

    Loading thousands of full models a second (three per post, with the author
    and contact) costs more than triaging them.
    """

    id: int
    channel: str
    external_id: str
    direction: str
    visibility: str
    text: str
    created_at: datetime
    parent_id: int | None
    followers: int | None
    lang: str
    is_automated: bool
    case_id: int | None
    processed_at: datetime | None
    contact_id: int
    tier: str
    # The author's identity's followers (the post's own count wins when it has one)
    # and their contact's account owner (None when there is none).
    identity_followers: int | None = None
    account_owner: str | None = None
    account: str = ""
    # The parent's external id as the channel gave it ("" for none).
    in_reply_to: str = ""

    @property
    def pk(self) -> int:
        return self.id


def post_rows(ids: list[int], lock: bool = False) -> list[PostRow]:
    posts = Post.objects.filter(id__in=ids)
    if lock:
        # Row locks keep two workers from processing one post twice
        # (PostgreSQL); SQLite serialises writers anyway. Taken in id order, the
        # order every locker of many posts uses, so that two never wait on each
        # other; "no key" (processing never changes a post's id): a transaction
        # that committed a row referring to one of these posts (a reply, a
        # triage) does not wait on them for its foreign key check.
        posts = posts.select_for_update(of=("self",), no_key=True).order_by("id")
    return [PostRow(*values) for values in posts.values_list(*_COLUMNS)]


def _rows(condition: Q, exclude: set[int]) -> list[PostRow]:
    return [PostRow(*values) for values in Post.objects.filter(condition).values_list(*_COLUMNS)
            if values[0] not in exclude]


def _by_channel(keys) -> Q | None:
    """Posts replying to any of these (channel, external id) keys."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for channel, external_id in keys:
        wanted[channel].add(external_id)
    condition = None
    for channel, external_ids in sorted(wanted.items()):
        one = Q(channel=channel, in_reply_to__in=sorted(external_ids))
        condition = one if condition is None else condition | one
    return condition


def processed_replies(keys, exclude: set[int]) -> list[PostRow]:
    """Processed posts that reply to any of these (channel, external id) keys, linked to
    their parent or not (a reply stored while its parent was not visible yet)."""
    condition = _by_channel(keys)
    if condition is None:
        return []
    return _rows(condition & Q(processed_at__isnull=False), exclude)


def processed_private_messages(contacts: set[int], channels: set[str], since: datetime,
                               exclude: set[int]) -> list[PostRow]:
    """Processed inbound private messages of these contacts on these channels, from
    `since` on.

    Filing keeps a person's private messages in that person's cases on the
    channel (cases.filing), so they are read through those cases and the posts'
    (case, created_at) index: a short range per case, however many posts the
    person has. A filter on the channel or the author instead tempts SQLite to
    walk every post of either.
    """
    if not contacts:
        return []
    from socialdesk.cases.models import Case

    cases = Case.objects.filter(contact_id__in=sorted(contacts),
                                channel__in=sorted(channels)).values("id")
    return [row for row in _rows(Q(case__in=cases, direction=Post.Direction.INBOUND,
                                   visibility=Post.Visibility.PRIVATE, created_at__gte=since),
                                 exclude)
            if row.channel in channels and row.contact_id in contacts]


def parent_ids(keys) -> dict[tuple[str, str], int]:
    """Ids of the stored posts with these (channel, external id) keys."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for channel, external_id in keys:
        wanted[channel].add(external_id)
    found = {}
    for channel, external_ids in wanted.items():
        ordered = sorted(external_ids)
        for start in range(0, len(ordered), 900):
            found.update(((channel, external_id), pk) for external_id, pk in Post.objects.filter(
                channel=channel, external_id__in=ordered[start:start + 900])
                .values_list("external_id", "id"))
    return found


def filing_state(ids) -> dict[int, tuple[int | None, bool]]:
    """Per post id: its case id and whether it was processed."""
    return {pk: (case_id, processed_at is not None) for pk, case_id, processed_at in
            Post.objects.filter(id__in=list(ids)).values_list("id", "case_id", "processed_at")}
