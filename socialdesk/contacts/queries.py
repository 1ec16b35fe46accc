"""Reads about contacts: what the desk knows of a post's author when it judges the post,
who may see a contact, and what its profile shows."""

import json
from bisect import bisect_left
from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.http import Http404

from socialdesk.accounts.models import User
from socialdesk.cases.models import Case
from socialdesk.cases.queries import cases_visible_to, is_admin
from socialdesk.connectors import channels
from socialdesk.contacts.models import Contact, Identity, Merge, MergeSuggestion
from socialdesk.ingestion.models import Post
from socialdesk.ingestion.queries import PostRow

REPEAT_WINDOW = timedelta(days=30)
# Three inbound posts in the month before this one: someone who keeps coming
# back, which usually means a problem still unsolved (or a regular advocate).
# A question and its follow-up, or one complaint with a reminder, stay below it.
REPEAT_POSTER_POSTS = 3


def author_context(rows: list[PostRow]) -> dict[int, dict]:
    """Per post id: followers, tier, account owner, how many inbound posts the same
    contact wrote in the REPEAT_WINDOW before it, and whether that makes a repeat poster.

    One query for the whole batch, whatever its size: the earlier posts of all the
    batch's contacts are read at once and counted here.
    """
    if not rows:
        return {}
    since = min(row.created_at for row in rows) - REPEAT_WINDOW
    times: dict[int, list] = defaultdict(list)
    # No time range in the query: with one, SQLite walks the created_at index over
    # every post of the window (all posts, on a busy desk) instead of reading just
    # these contacts' posts through their identities. A contact's history is short.
    for contact, at in (Post.objects
                        .filter(author__contact__in={row.contact_id for row in rows},
                                direction=Post.Direction.INBOUND)
                        .order_by().values_list("author__contact_id", "created_at")):
        if at >= since:
            times[contact].append(at)
    for earlier in times.values():
        earlier.sort()
    context = {}
    for row in rows:
        earlier = times.get(row.contact_id, ())
        recent = (bisect_left(earlier, row.created_at)
                  - bisect_left(earlier, row.created_at - REPEAT_WINDOW))
        context[row.id] = {
            "followers": row.followers if row.followers is not None else row.identity_followers,
            "tier": row.tier,
            "account_owner": row.account_owner or "",
            "recent_posts": recent,
            "repeat_poster": recent >= REPEAT_POSTER_POSTS,
        }
    return context


# Profile pages and search: who may see a contact, and what the profile shows.

SENTIMENTS = ("positive", "neutral", "negative")
SENTIMENT_WEEKS = 26


def contacts_visible_to(user: User) -> QuerySet[Contact]:
    """Admins see every contact; others (supervisors included) those with a case they
    may see."""
    contacts = Contact.objects.all()
    if is_admin(user):
        return contacts
    return contacts.filter(pk__in=cases_visible_to(user).values("contact_id"))


def reachable_contacts(user: User) -> QuerySet[Contact]:
    """The contacts this user sees, and those merged into them: a contact merged
    away has no cases of its own left and is seen through the one it joined."""
    visible = contacts_visible_to(user).values("pk")
    return Contact.objects.filter(Q(pk__in=visible) | Q(merged_into__in=visible))


def access_contact(user: User, contact_id: int) -> Contact:
    """The contact, if this user may see it; 404 otherwise (no hint that it exists)."""
    found = (reachable_contacts(user).filter(pk=contact_id)
             .select_related("account_owner", "merged_into").first())
    if found is None:
        raise Http404("No such contact")
    return found


def search_contacts(user: User, text: str = "", tag: str = "") -> QuerySet[Contact]:
    """Contacts (not merged away) by name, handle, e-mail or customer id, and tag."""
    contacts = contacts_visible_to(user).filter(merged_into__isnull=True)
    text = text.strip().lstrip("@")
    if text:
        handles = Identity.objects.filter(Q(handle__icontains=text) | Q(email__iexact=text)
                                          | Q(name__icontains=text))
        contacts = contacts.filter(Q(name__icontains=text) | Q(email__iexact=text)
                                   | Q(customer_id__iexact=text)
                                   | Q(pk__in=handles.values("contact_id")))
    if tag:
        # Tags are a JSON list of plain words (contacts.tags.clean_tag): the quoted
        # word matches one whole tag, on SQLite and PostgreSQL alike.
        contacts = contacts.filter(tags__icontains=json.dumps(tag))
    return (contacts.select_related("account_owner").prefetch_related("identities")
            .order_by("-id"))


def identities_of(contact: Contact) -> list[dict]:
    return [{"identity": i, "url": channels.channel(i.channel).profile_url(i.handle)}
            for i in contact.identities.order_by("channel", "handle")]


def visible_case_ids(user: User, contact: Contact) -> set[int]:
    return set(cases_visible_to(user).filter(contact=contact).values_list("pk", flat=True))


def cases_of(contact: Contact) -> list[Case]:
    return list(contact.cases.select_related("team", "assignee").order_by("-opened_at", "-id"))


def interactions(contact: Contact) -> QuerySet[Post]:
    """The person's posts and the brand's posts on their cases, newest first."""
    return (Post.objects.filter(Q(author__contact=contact)
                                | Q(case__contact=contact, direction=Post.Direction.OUTBOUND))
            .select_related("author", "triage", "sent_by").order_by("-created_at", "-id"))


def sentiment_by_week(contact: Contact, weeks: int = SENTIMENT_WEEKS) -> list[dict]:
    """Per week (the latest `weeks` weeks that have any), how many of the person's
    inbound posts the triage read as positive, neutral and negative; oldest first."""
    rows = (Post.objects.filter(author__contact=contact, direction=Post.Direction.INBOUND,
                                triage__isnull=False)
            .annotate(week=TruncWeek("created_at")).order_by()
            .values("week", "triage__sentiment").annotate(n=Count("id")))
    by_week: dict = defaultdict(lambda: dict.fromkeys(SENTIMENTS, 0))
    for row in rows:
        if row["triage__sentiment"] in SENTIMENTS:
            by_week[row["week"]][row["triage__sentiment"]] += row["n"]
    latest = sorted(by_week)[-weeks:]
    return [{"week": week.date() if hasattr(week, "date") else week, **by_week[week],
             "total": sum(by_week[week].values())} for week in latest]


def merges_into(contact: Contact) -> list[Merge]:
    return list(Merge.objects.filter(target=contact).select_related("source", "merged_by",
                                                                    "undone_by"))


def pending_suggestions(user: User, contact: Contact | None = None) -> QuerySet[MergeSuggestion]:
    """Pending suggestions whose two contacts this user may see and are still live."""
    visible = contacts_visible_to(user).filter(merged_into__isnull=True, erased_at__isnull=True)
    suggestions = MergeSuggestion.objects.filter(
        status=MergeSuggestion.Status.PENDING, contact_a__in=visible, contact_b__in=visible)
    if contact is not None:
        suggestions = suggestions.filter(Q(contact_a=contact) | Q(contact_b=contact))
    return (suggestions.select_related("contact_a", "contact_b")
            .prefetch_related("contact_a__identities", "contact_b__identities"))


def access_suggestion(user: User, suggestion_id: int) -> MergeSuggestion:
    visible = reachable_contacts(user)
    try:
        return (MergeSuggestion.objects.select_related("contact_a", "contact_b")
                .get(pk=suggestion_id, contact_a__in=visible, contact_b__in=visible))
    except MergeSuggestion.DoesNotExist:
        raise Http404("No such suggestion") from None


def access_merge(user: User, merge_id: int) -> Merge:
    """A merge, if this user may see the contact it merged into; 404 otherwise."""
    try:
        return (Merge.objects.select_related("target", "source")
                .get(pk=merge_id, target__in=contacts_visible_to(user)))
    except Merge.DoesNotExist:
        raise Http404("No such merge") from None
