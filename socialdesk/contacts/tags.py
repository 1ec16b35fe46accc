"""Contact tags: four computed from what the person does, any number added by agents.

The computed tags, and the thresholds behind them, are defined here and nowhere else:

- "vip": the contact's tier is VIP (set by hand or by the customer import).
- "advocate": at least ADVOCATE_MIN_POSITIVE positive inbound posts in the last
  TAG_WINDOW, and no negative one.
- "frequent engager": at least FREQUENT_MIN_POSTS inbound posts in the last TAG_WINDOW.
- "detractor": at least DETRACTOR_MIN_NEGATIVE negative inbound posts in the last
  TAG_WINDOW, and more negative than positive ones.

Sentiment is the triage's (after any agent's correction). Computed tags are
refreshed for the contacts a batch touched (contacts.actions.do_refresh_contacts),
after an import, a merge or an unmerge, and for everyone by `socialdesk contacts
refresh-tags` (or the `contacts.refresh_tags` task), which also lets tags lapse
once the posts behind them are older than the window. Agents cannot add or
remove a computed tag by hand: it would be overwritten at the next refresh.
"""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from socialdesk.audit.actions import do_record
from socialdesk.contacts.actions import ContactError, check_live
from socialdesk.contacts.models import Contact
from socialdesk.ingestion.models import Post
from socialdesk.lib.bulk import bulk_update_fields

TAG_WINDOW = timedelta(days=90)
ADVOCATE_MIN_POSITIVE = 3
FREQUENT_MIN_POSTS = 5
DETRACTOR_MIN_NEGATIVE = 3

VIP = "vip"
ADVOCATE = "advocate"
FREQUENT_ENGAGER = "frequent engager"
DETRACTOR = "detractor"
COMPUTED = (VIP, ADVOCATE, FREQUENT_ENGAGER, DETRACTOR)
LABELS = {VIP: "VIP", ADVOCATE: "Advocate", FREQUENT_ENGAGER: "Frequent engager",
          DETRACTOR: "Detractor"}

TAG_MAX_CHARS = 40
MAX_MANUAL_TAGS = 20
_TAG = re.compile(r"[a-z0-9][a-z0-9 _-]*")


class TagError(ContactError):
    pass


def computed_tags(tier: str, positive: int, negative: int, posts: int) -> list[str]:
    tags = []
    if tier == Contact.Tier.VIP:
        tags.append(VIP)
    if positive >= ADVOCATE_MIN_POSITIVE and negative == 0:
        tags.append(ADVOCATE)
    if posts >= FREQUENT_MIN_POSTS:
        tags.append(FREQUENT_ENGAGER)
    if negative >= DETRACTOR_MIN_NEGATIVE and negative > positive:
        tags.append(DETRACTOR)
    return tags


def manual_tags(tags: Iterable[str]) -> list[str]:
    return [t for t in tags if t not in COMPUTED]


def _activity(contact_ids: set[int] | None, since) -> dict[int, dict[str, int]]:
    """Per contact: inbound posts since `since`, and how many of them were positive
    and negative. One grouped query."""
    posts = Post.objects.filter(direction=Post.Direction.INBOUND, created_at__gte=since)
    if contact_ids is not None:
        posts = posts.filter(author__contact__in=contact_ids)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"posts": 0, "positive": 0,
                                                               "negative": 0})
    rows = (posts.order_by().values("author__contact_id")
            .annotate(n=Count("id"), pos=Count("id", filter=Q(triage__sentiment="positive")),
                      neg=Count("id", filter=Q(triage__sentiment="negative"))))
    for row in rows:
        counts[row["author__contact_id"]] = {"posts": row["n"], "positive": row["pos"],
                                             "negative": row["neg"]}
    return counts


def do_refresh_tags(contact_ids: Iterable[int] | None = None, now=None) -> int:
    """Recompute the computed tags of these contacts (None: every contact that has
    one, or posted in the window); agents' own tags stay. Returns how many changed."""
    now = now or timezone.now()
    ids = None if contact_ids is None else set(contact_ids)
    activity = _activity(ids, now - TAG_WINDOW)
    contacts = Contact.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
    if ids is not None:
        contacts = contacts.filter(pk__in=ids)
    else:
        # Everyone who may gain a tag, and everyone who holds one that may lapse.
        holders = Q()
        for tag in COMPUTED:
            holders |= Q(tags__icontains=f'"{tag}"')
        contacts = contacts.filter(Q(pk__in=list(activity)) | Q(tier=Contact.Tier.VIP)
                                   | holders)
    changed = []
    # Plain rows: the pipeline refreshes the authors of every batch, and model
    # instances for each of them cost more than the comparison.
    for pk, tier, held in contacts.values_list("id", "tier", "tags").iterator(chunk_size=2000):
        counts = activity.get(pk, {"posts": 0, "positive": 0, "negative": 0})
        tags = computed_tags(tier, counts["positive"], counts["negative"],
                             counts["posts"]) + manual_tags(held)
        if tags != held:
            changed.append(_Tags(pk, tags))
    bulk_update_fields(changed, ["tags"], model=Contact)
    return len(changed)


@dataclass(slots=True)
class _Tags:
    pk: int
    tags: list[str]


def clean_tag(value: str) -> str:
    tag = " ".join((value or "").split()).lower()
    if not tag:
        raise TagError("Give the tag a name.")
    if len(tag) > TAG_MAX_CHARS:
        raise TagError(f"A tag has at most {TAG_MAX_CHARS} characters.")
    if not _TAG.fullmatch(tag):
        raise TagError("A tag uses letters, digits, spaces, - and _ only.")
    if tag in COMPUTED:
        raise TagError(f"“{LABELS[tag]}” is computed from the person's posts and tier; "
                       "it cannot be set by hand.")
    return tag


@transaction.atomic
def do_add_tag(contact: Contact, tag: str, actor) -> list[str]:
    tag = clean_tag(tag)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    check_live(contact)
    if tag in contact.tags:
        return contact.tags
    if len(manual_tags(contact.tags)) >= MAX_MANUAL_TAGS:
        raise TagError(f"A contact has at most {MAX_MANUAL_TAGS} tags of agents' own.")
    contact.tags = [*contact.tags, tag]
    contact.save(update_fields=["tags"])
    do_record("contact.tagged", actor=actor, contact=contact.pk, tag=tag)
    return contact.tags


@transaction.atomic
def do_remove_tag(contact: Contact, tag: str, actor) -> list[str]:
    tag = " ".join((tag or "").split()).lower()
    if tag in COMPUTED:
        raise TagError(f"“{LABELS[tag]}” is computed from the person's posts and tier; "
                       "it cannot be removed by hand.")
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if tag not in contact.tags:
        raise TagError("This contact has no such tag.")
    contact.tags = [t for t in contact.tags if t != tag]
    contact.save(update_fields=["tags"])
    do_record("contact.untagged", actor=actor, contact=contact.pk, tag=tag)
    return contact.tags
