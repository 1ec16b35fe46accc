"""Merge suggestions: two contacts that look like one person.

Three reasons, strongest first: the same e-mail address; the same display name
with the same photo URL; the same text (normalised, at least
CROSS_POST_MIN_CHARS long) posted from two channels within CROSS_POST_WINDOW.
A pair is stored once (contacts.models.MergeSuggestion), so a pair an agent
rejected, or one merged and unmerged, is never proposed again.
"""

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import combinations

from django.db.models import Count

from socialdesk.contacts.models import Contact, Identity, MergeSuggestion, PostFingerprint
from socialdesk.ingestion.models import Post
from socialdesk.lib.bulk import insert_rows

CROSS_POST_MIN_CHARS = 30
CROSS_POST_WINDOW = timedelta(hours=24)
# A key that more contacts than this share is not one person: a shared office
# address, a default avatar, a chain message copied by many.
MAX_GROUP = 10
EXCERPT_CHARS = 140
CHUNK = 900

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@[\w.]+")
_PUNCTUATION = re.compile(r"[^\w]+")

Pair = tuple[int, int]


def normalise(text: str) -> str:
    """Text as it reads across channels: case, links, @mentions, punctuation and
    spacing set aside (a cross-post differs in those, not in its words)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _MENTION.sub(" ", _URL.sub(" ", text))
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def digest_of(text: str) -> str | None:
    normal = normalise(text)
    if len(normal) < CROSS_POST_MIN_CHARS:
        return None
    return hashlib.sha256(normal.encode()).hexdigest()


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass
class Leads:
    """What to look for matches of: the e-mail addresses, photo URLs and text digests
    of some contacts (None: every one there is), and whose pairs count (None: all)."""

    contacts: set[int] | None = None
    emails: set[str] | None = None
    photos: set[str] | None = None
    digests: set[str] | None = None


def do_fingerprint_posts(post_ids: list[int]) -> Leads:
    """Store the digests of these posts' inbound texts that have none yet. Returns
    what their authors bring to look for: contacts, e-mails, photos and digests."""
    leads = Leads(set(), set(), set(), set())
    rows = []
    for chunk in _chunks(sorted(set(post_ids))):
        done = set(PostFingerprint.objects.filter(post_id__in=chunk)
                   .values_list("post_id", flat=True))
        for pk, identity, contact, channel, text, at, email, name, photo in (
                Post.objects.filter(id__in=chunk, direction=Post.Direction.INBOUND)
                .values_list("id", "author_id", "author__contact_id", "channel", "text",
                             "created_at", "author__email", "author__name",
                             "author__photo_url")):
            leads.contacts.add(contact)
            if email:
                leads.emails.add(email)
            if name and photo:
                leads.photos.add(photo)
            digest = digest_of(text) if pk not in done else None
            if digest:
                rows.append((pk, identity, channel, digest, at))
                leads.digests.add(digest)
    insert_rows(PostFingerprint, ["post", "identity", "channel", "digest", "created_at"], rows,
                returning=False)
    return leads


def do_fingerprint_backlog() -> int:
    """Fingerprint every inbound post that has no digest yet (posts stored before
    fingerprints existed). A full pass, for `socialdesk contacts suggest`."""
    done = 0
    last = 0
    while True:
        ids = list(Post.objects.filter(direction=Post.Direction.INBOUND, id__gt=last)
                   .order_by("id").values_list("id", flat=True)[:5000])
        if not ids:
            return done
        done += len(do_fingerprint_posts(ids).digests)
        last = ids[-1]


def do_suggest_merges(contact_ids: Iterable[int] | None = None,
                      leads: Leads | None = None) -> list[MergeSuggestion]:
    """Store a pending suggestion for every new pair that looks like one person.

    With `contact_ids`, only pairs that involve those contacts are looked for
    (after a customer import); with `leads`, only matches of what a batch of
    posts brought (the pipeline's hook); with neither, every contact. Pairs
    already suggested (pending, accepted or rejected) are left as they are.
    Returns the new suggestions.
    """
    if leads is None:
        leads = Leads() if contact_ids is None else _leads_of(set(contact_ids))
    if leads.contacts is not None and not leads.contacts:
        return []
    found: dict[Pair, dict[str, dict]] = {}
    for reason, pairs in ((MergeSuggestion.Reason.EMAIL, _email_pairs(leads)),
                          (MergeSuggestion.Reason.NAME_PHOTO, _name_photo_pairs(leads)),
                          (MergeSuggestion.Reason.CROSS_POST, _cross_post_pairs(leads))):
        for pair, evidence in pairs.items():
            found.setdefault(pair, {}).setdefault(reason, evidence)
    if not found:
        return []
    involved = sorted({c for pair in found for c in pair})
    live = set()
    known = set()
    for chunk in _chunks(involved):
        live.update(Contact.objects.filter(pk__in=chunk, merged_into__isnull=True,
                                           erased_at__isnull=True)
                    .values_list("pk", flat=True))
        known.update(MergeSuggestion.objects.filter(contact_a__in=chunk)
                     .values_list("contact_a_id", "contact_b_id"))
    order = list(MergeSuggestion.Reason.values)  # strongest first
    new = [MergeSuggestion(contact_a_id=a, contact_b_id=b, evidence=evidence,
                           reason=min(evidence, key=order.index))
           for (a, b), evidence in sorted(found.items())
           if a in live and b in live and (a, b) not in known]
    # Two workers may find the same pair at once: the pair's unique constraint
    # keeps one, and the other insert is skipped.
    MergeSuggestion.objects.bulk_create(new, ignore_conflicts=True)
    return new


def _leads_of(ids: set[int]) -> Leads:
    """Everything these contacts have to match on."""
    leads = Leads(ids, set(), set(), set())
    for chunk in _chunks(sorted(ids)):
        leads.emails.update(Contact.objects.filter(pk__in=chunk).exclude(email="")
                            .values_list("email", flat=True))
        for email, name, photo in (Identity.objects.filter(contact__in=chunk)
                                   .values_list("email", "name", "photo_url")):
            if email:
                leads.emails.add(email)
            if name and photo:
                leads.photos.add(photo)
        leads.digests.update(PostFingerprint.objects.filter(identity__contact__in=chunk)
                             .values_list("digest", flat=True))
    return leads


def _pairs_in(groups: dict, ids: set[int] | None) -> Iterator[tuple[Pair, object]]:
    """Pairs of different contacts sharing a key, in groups small enough to be one person."""
    for key, contacts in groups.items():
        if 2 <= len(contacts) <= MAX_GROUP:
            for a, b in combinations(sorted(contacts), 2):
                if ids is None or a in ids or b in ids:
                    yield (a, b), key


def _email_pairs(leads: Leads) -> dict[Pair, dict]:
    groups: dict[str, set[int]] = defaultdict(set)
    if leads.emails is None:
        parts = [(Contact.objects.exclude(email=""), Identity.objects.exclude(email=""))]
    else:
        parts = [(Contact.objects.filter(email__in=chunk), Identity.objects.filter(email__in=chunk))
                 for chunk in _chunks(sorted(leads.emails))]
    for contacts, identities in parts:
        for pk, email in contacts.values_list("pk", "email").iterator():
            groups[email.lower()].add(pk)
        for contact, email in identities.values_list("contact_id", "email").iterator():
            groups[email.lower()].add(contact)
    return {pair: {"email": email} for pair, email in _pairs_in(groups, leads.contacts)}


def _name_photo_pairs(leads: Leads) -> dict[Pair, dict]:
    identities = Identity.objects.exclude(name="").exclude(photo_url="")
    if leads.photos is None:
        parts = [identities]
    else:
        parts = [identities.filter(photo_url__in=chunk) for chunk in _chunks(sorted(leads.photos))]
    groups: dict[tuple[str, str], set[int]] = defaultdict(set)
    for part in parts:
        for contact, name, photo in part.values_list("contact_id", "name", "photo_url").iterator():
            groups[(" ".join(name.casefold().split()), photo)].add(contact)
    return {pair: {"name": name, "photo_url": photo}
            for pair, (name, photo) in _pairs_in(groups, leads.contacts)}


def _cross_post_pairs(leads: Leads) -> dict[Pair, dict]:
    ids = leads.contacts
    shared = (PostFingerprint.objects.values("digest")
              .annotate(n=Count("identity__contact", distinct=True))
              .filter(n__gte=2, n__lte=MAX_GROUP).values_list("digest", flat=True))
    # Most texts are nobody else's, and a text many people post is no evidence:
    # only the digests two to MAX_GROUP contacts share are read.
    if leads.digests is None:
        digests = list(shared)
    else:
        digests = [d for chunk in _chunks(sorted(leads.digests))
                   for d in shared.filter(digest__in=chunk)]
    posts: dict[str, list[tuple]] = defaultdict(list)
    for chunk in _chunks(digests):
        for row in (PostFingerprint.objects.filter(digest__in=chunk)
                    .values_list("digest", "identity__contact_id", "channel", "created_at",
                                 "post_id")):
            posts[row[0]].append(row[1:])
    pairs: dict[Pair, dict] = {}
    for rows in posts.values():
        if len({r[0] for r in rows}) > MAX_GROUP:
            continue
        rows.sort(key=lambda r: r[2])
        for i, (contact, channel, at, post) in enumerate(rows):
            for other, other_channel, other_at, other_post in rows[i + 1:]:
                if other_at - at > CROSS_POST_WINDOW:
                    break
                if other == contact or other_channel == channel:
                    continue
                if ids is not None and contact not in ids and other not in ids:
                    continue
                pair = (min(contact, other), max(contact, other))
                pairs.setdefault(pair, {"posts": [post, other_post],
                                        "channels": [channel, other_channel]})
    if pairs:
        excerpts = {}
        for chunk in _chunks(sorted({e["posts"][0] for e in pairs.values()})):
            excerpts.update(Post.objects.filter(id__in=chunk).values_list("id", "text"))
        for evidence in pairs.values():
            evidence["excerpt"] = excerpts.get(evidence["posts"][0], "")[:EXCERPT_CHARS]
    return pairs
