"""Data-subject requests: everything held about a person, and erasing it.

docs/PRIVACY.md says what is exported, what is erased, and what is kept and why.
A contact that others were merged into is one person with them: the merged
contacts are exported and erased with it.
"""

import hashlib
import hmac
import json
import re

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from socialdesk.audit.actions import do_record
from socialdesk.audit.models import Event
from socialdesk.cases.models import Case, FollowUp, Note, Reply
from socialdesk.contacts.actions import ContactError
from socialdesk.contacts.models import (
    Contact,
    ContactNote,
    Identity,
    Merge,
    MergeSuggestion,
    PostFingerprint,
)
from socialdesk.ingestion.models import Post
from socialdesk.lib.bulk import bulk_update_fields
from socialdesk.notifications.models import Notification, WebhookDelivery
from socialdesk.triage.models import Correction, Triage

ERASED = "[erased]"
EXPORT_FORMAT = "socialdesk-contact-export"
EXPORT_VERSION = 1
# Texts shorter than this are not looked for as quotes elsewhere: "ok thanks"
# would match in everyone's replies.
MIN_QUOTE_CHARS = 12
# Where the desk copies the start of a post: the case subject, notification lines.
QUOTED_PREFIXES = (200, 120)
# A word of the person's with this many digits is taken for a number of theirs
# (phone, order, account) wherever it appears in their cases.
MIN_DIGITS = 4


def same_person(contact: Contact) -> list[int]:
    """The contact and every contact merged into it, directly or through another."""
    ids, frontier = [contact.pk], [contact.pk]
    while frontier:
        frontier = list(Contact.objects.filter(merged_into__in=frontier)
                        .values_list("pk", flat=True))
        ids.extend(pk for pk in frontier if pk not in ids)
    return ids


def events_about(contact_ids: list[int], case_ids: list[int]):
    return Event.objects.filter(
        Q(case__in=case_ids) | Q(data__contact__in=contact_ids)
        | Q(data__merged__in=contact_ids) | Q(data__restored__in=contact_ids)
        | Q(data__other__in=contact_ids)).select_related("actor").order_by("at", "id")


def _user(user) -> str | None:
    return user.username if user is not None else None


def contact_export(contact: Contact) -> dict:
    """Everything the desk holds about the person, as plain JSON-ready data."""
    people = same_person(contact)
    contacts = Contact.objects.filter(pk__in=people).select_related("account_owner")
    identities = list(Identity.objects.filter(contact__in=people).order_by("channel", "handle"))
    cases = list(Case.objects.filter(contact__in=people).select_related("team", "assignee")
                 .prefetch_related("replies__author", "notes__author", "follow_ups")
                 .order_by("opened_at", "id"))
    case_ids = [c.pk for c in cases]
    posts = (Post.objects.filter(Q(author__contact__in=people) | Q(case__in=case_ids))
             .select_related("author", "triage", "sent_by").order_by("created_at", "id"))
    corrections: dict[int, list] = {}
    for c in Correction.objects.filter(post__in=posts).select_related("created_by"):
        corrections.setdefault(c.post_id, []).append(
            {"field": c.field, "value": c.value, "previous": c.previous, "note": c.note,
             "by": _user(c.created_by), "at": c.created_at})
    return {
        "format": EXPORT_FORMAT, "version": EXPORT_VERSION, "exported_at": timezone.now(),
        "contact": _contact_data(contact, contacts),
        "identities": [{"id": i.pk, "contact": i.contact_id, "channel": i.channel,
                        "handle": i.handle, "name": i.name, "email": i.email,
                        "photo_url": i.photo_url, "followers": i.followers}
                       for i in identities],
        "posts": [_post_data(p, corrections.get(p.pk, [])) for p in posts],
        "cases": [_case_data(c) for c in cases],
        "notes": [{"id": n.pk, "text": n.text, "author": _user(n.author),
                   "created_at": n.created_at}
                  for n in ContactNote.objects.filter(contact__in=people)
                  .select_related("author").order_by("created_at", "id")],
        "merges": [{"id": m.pk, "target": m.target_id, "source": m.source_id, "moved": m.moved,
                    "source_fields": m.source_fields, "target_changes": m.target_changes,
                    "merged_by": _user(m.merged_by), "merged_at": m.merged_at,
                    "undone_by": _user(m.undone_by), "undone_at": m.undone_at}
                   for m in Merge.objects.filter(Q(target__in=people) | Q(source__in=people))
                   .select_related("merged_by", "undone_by").order_by("merged_at", "id")],
        "events": [{"id": e.pk, "at": e.at, "verb": e.verb, "actor": _user(e.actor),
                    "case": e.case_id, "data": e.data}
                   for e in events_about(people, case_ids)],
    }


def _contact_data(contact: Contact, contacts) -> dict:
    rows = {c.pk: c for c in contacts}
    main = rows[contact.pk]
    return {"id": main.pk, "name": main.name, "email": main.email,
            "customer_id": main.customer_id, "tier": main.tier,
            "account_owner": _user(main.account_owner), "tags": main.tags,
            "created_at": main.created_at, "erased_at": main.erased_at,
            "merged_contacts": [{"id": c.pk, "name": c.name, "email": c.email,
                                 "customer_id": c.customer_id, "created_at": c.created_at}
                                for pk, c in sorted(rows.items()) if pk != main.pk]}


def _post_data(post: Post, corrections: list) -> dict:
    triage = getattr(post, "triage", None)
    return {
        "id": post.pk, "channel": post.channel, "external_id": post.external_id,
        "direction": post.direction, "visibility": post.visibility,
        "author": f"{post.author.channel}:{post.author.handle}", "text": post.text,
        "created_at": post.created_at, "in_reply_to": post.in_reply_to, "url": post.url,
        "lang": post.lang, "followers": post.followers, "case": post.case_id,
        "sent_by": _user(post.sent_by), "raw": post.raw,
        "triage": None if triage is None else {
            "sentiment": triage.sentiment, "sentiment_score": triage.sentiment_score,
            "category": triage.category, "decision": triage.decision,
            "severity": triage.severity, "priority": triage.priority,
            "labels": triage.labels, "topics": triage.topics, "cues": triage.cues,
            "reasons": triage.reasons, "author": triage.author,
            "policy_version": triage.policy_version, "model_version": triage.model_version,
            "created_at": triage.created_at},
        "corrections": corrections,
    }


def _case_data(case: Case) -> dict:
    return {
        "id": case.pk, "ref": case.ref, "status": case.status, "priority": case.priority,
        "decision": case.decision, "category": case.category, "channel": case.channel,
        "subject": case.subject, "team": case.team.slug if case.team else None,
        "assignee": _user(case.assignee), "tags": case.tags, "opened_at": case.opened_at,
        "resolved_at": case.resolved_at,
        "replies": [{"id": r.pk, "status": r.status, "visibility": r.visibility,
                     "text": r.text, "author": _user(r.author), "created_at": r.created_at,
                     "sent_at": r.sent_at} for r in case.replies.all()],
        "notes": [{"id": n.pk, "kind": n.kind, "text": n.text, "author": _user(n.author),
                   "created_at": n.created_at} for n in case.notes.all()],
        "follow_ups": [{"id": f.pk, "kind": f.kind, "action": f.action, "due_at": f.due_at,
                        "status": f.status, "closed_at": f.closed_at}
                       for f in case.follow_ups.all()],
    }


def export_json(data: dict) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


@transaction.atomic
def do_record_export(contact: Contact, actor, via: str) -> dict:
    """The export, and an audit event saying who took it (no personal data in it)."""
    data = contact_export(contact)
    do_record("contact.exported", actor=actor, contact=contact.pk, via=via)
    return data


def erased_handle(channel: str, handle: str) -> str:
    """A stand-in for an erased handle: keyed with SECRET_KEY, so nobody can test
    guesses against it without the key, and as unique as the handle was."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{channel}:{handle}".encode(),
                      hashlib.sha256).hexdigest()
    return f"erased-{digest}"


class Scrubber:
    """Replaces a person's words in text others wrote about them: quotes of their
    posts (whole, the starts the desk copies, and any run of words sharing three
    in a row with them), then their names, handles, addresses, customer id and
    the numbers they gave (phone, order and account numbers)."""

    def __init__(self, terms: set[str], quotes: set[str]):
        quoted = {q[:n] for q in quotes for n in (None, *QUOTED_PREFIXES)}
        self.quotes = sorted((q for q in quoted if len(q.strip()) >= MIN_QUOTE_CHARS),
                             key=len, reverse=True)
        self.trigrams = set()
        numbers = set()
        for quote in quotes:
            words = [w.casefold() for w in _WORD.findall(quote)]
            self.trigrams.update(zip(words, words[1:], words[2:], strict=False))
            numbers.update(w for w in words if sum(c.isdigit() for c in w) >= MIN_DIGITS)
        words = sorted({t for t in terms | numbers if len(t) >= 2}, key=len, reverse=True)
        self.terms = (re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)",
                                 re.IGNORECASE) if words else None)

    def __call__(self, value):
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, str) or not value:
            return value
        for quote in self.quotes:
            if quote in value:
                value = value.replace(quote, ERASED)
        value = self._shared_runs(value)
        return self.terms.sub(ERASED, value) if self.terms else value

    def _shared_runs(self, text: str) -> str:
        words = list(_WORD.finditer(text))
        folded = [w.group().casefold() for w in words]
        covered = [False] * len(words)
        for i in range(len(words) - 2):
            if tuple(folded[i:i + 3]) in self.trigrams:
                covered[i] = covered[i + 1] = covered[i + 2] = True
        spans, start = [], None
        for i, hit in enumerate([*covered, False]):
            if hit and start is None:
                start = i
            elif not hit and start is not None:
                spans.append((words[start].start(), words[i - 1].end()))
                start = None
        for begin, end in reversed(spans):
            text = text[:begin] + ERASED + text[end:]
        return text


_WORD = re.compile(r"\w+")
_QUOTED = re.compile(r"'(.+?)'(?=[\s,;:.)]|$)")


def _unquote(value: str, text: str) -> str:
    """A triage reason with the words it quotes from the post replaced."""
    folded = text.casefold()
    return _QUOTED.sub(lambda m: f"'{ERASED}'" if m.group(1).casefold() in folded
                       else m.group(0), value)


def _scrub_triage(triage: Triage, text: str) -> None:
    triage.cues = [{**cue, "evidence": [ERASED]} for cue in triage.cues]
    triage.labels = [{**label, "by": _unquote(str(label.get("by", "")), text)}
                     for label in triage.labels]
    triage.topics = [{**topic, "by": _unquote(str(topic.get("by", "")), text)}
                     for topic in triage.topics]
    triage.reasons = [_unquote(reason, text) for reason in triage.reasons]


def _scrub_rows(queryset, fields: list[str], scrub: Scrubber) -> int:
    changed = []
    for row in queryset.only("pk", *fields):
        before = [getattr(row, f) for f in fields]
        for name in fields:
            setattr(row, name, scrub(getattr(row, name)))
        if [getattr(row, f) for f in fields] != before:
            changed.append(row)
    bulk_update_fields(changed, fields)
    return len(changed)


@transaction.atomic
def do_erase_contact(contact: Contact, actor) -> dict[str, int]:
    """Erase what the desk holds about a person; keep the shape of the cases and one
    audit event saying who erased which contact id, when. Returns counts."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.merged_into_id:
        raise ContactError(f"Contact {contact.pk} was merged into contact "
                           f"{contact.merged_into_id}: erase that one, which erases both.")
    if contact.erased_at:
        raise ContactError(f"Contact {contact.pk} was already erased.")
    now = timezone.now()
    people = same_person(contact)
    contacts = list(Contact.objects.filter(pk__in=people))
    identities = list(Identity.objects.filter(contact__in=people))
    case_ids = list(Case.objects.filter(contact__in=people).values_list("pk", flat=True))
    own_posts = Post.objects.filter(author__in=identities)
    texts = dict(own_posts.values_list("pk", "text"))

    terms = set()
    for c in contacts:
        terms.update([c.name, c.email, c.customer_id if len(c.customer_id) >= 3 else "",
                      *c.name.split()])
    for i in identities:
        terms.update([i.handle, i.name, i.email, i.photo_url, *i.name.split()])
    for m in Merge.objects.filter(Q(target__in=people) | Q(source__in=people)):
        terms.update(str(m.source_fields.get(k, "")) for k in ("name", "email"))
    scrub = Scrubber({t.strip() for t in terms if t and t.strip()}, set(texts.values()))

    counts = {"contacts": len(contacts), "identities": len(identities), "posts": len(texts),
              "cases": len(case_ids)}
    own_posts.update(text=ERASED, raw={}, url="")
    triages = list(Triage.objects.filter(post__in=list(texts)))
    for triage in triages:
        _scrub_triage(triage, texts[triage.post_id])
    bulk_update_fields(triages, ["cues", "labels", "topics", "reasons"])
    Case.objects.filter(pk__in=case_ids).update(subject=ERASED)
    # What the brand and its agents wrote about the person keeps its words, not theirs.
    others = Post.objects.filter(case__in=case_ids).exclude(author__in=identities)
    counts["texts_scrubbed"] = sum([
        _scrub_rows(others, ["text"], scrub),
        _scrub_rows(Reply.objects.filter(case__in=case_ids),
                    ["text", "review_comment", "last_error", "follow_up"], scrub),
        _scrub_rows(Note.objects.filter(case__in=case_ids), ["text"], scrub),
        _scrub_rows(FollowUp.objects.filter(case__in=case_ids), ["action"], scrub),
        _scrub_rows(Correction.objects.filter(Q(post__in=list(texts))
                                              | Q(post__case__in=case_ids)), ["note"], scrub),
        _scrub_rows(Notification.objects.filter(case__in=case_ids), ["text"], scrub),
    ])
    deliveries = list(WebhookDelivery.objects.filter(payload__case_id__in=case_ids))
    for delivery in deliveries:
        delivery.payload = scrub(delivery.payload)
    bulk_update_fields(deliveries, ["payload"])

    for identity in identities:
        identity.handle = erased_handle(identity.channel, identity.handle)
        identity.name = identity.email = identity.photo_url = ""
    bulk_update_fields(identities, ["handle", "name", "email", "photo_url"])
    PostFingerprint.objects.filter(identity__in=identities).delete()
    ContactNote.objects.filter(contact__in=people).delete()
    MergeSuggestion.objects.filter(Q(contact_a__in=people) | Q(contact_b__in=people)).delete()
    for merge in Merge.objects.filter(Q(target__in=people) | Q(source__in=people)):
        merge.source_fields = {**merge.source_fields, "name": "", "email": "",
                               "customer_id": "", "tags": []}
        merge.target_changes = {k: ["", ""] if k in ("name", "email", "customer_id") else v
                                for k, v in merge.target_changes.items()}
        merge.save(update_fields=["source_fields", "target_changes"])
    Contact.objects.filter(pk__in=people).update(name="", email="", customer_id="", tags=[],
                                                 erased_at=now)
    do_record("contact.erased", actor=actor, at=now, contact=contact.pk,
              merged_contacts=[pk for pk in people if pk != contact.pk], **counts)
    return counts
