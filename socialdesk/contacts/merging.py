"""Merging two contacts into one person, and undoing it.

A merge moves every identity, case and note of one contact (the source) to the
other (the target), fills the target's empty fields from the source's, and
keeps a Merge row with exactly what moved and what it changed: unmerge moves
those back and restores both contacts. Nothing is deleted and the audit log
only grows: each moved case gets an event, so its history says why its
contact changed.
"""

from django.db import transaction
from django.utils import timezone

from socialdesk.audit.actions import do_record, do_record_many
from socialdesk.audit.models import Event
from socialdesk.cases.models import Case
from socialdesk.contacts.actions import ContactError
from socialdesk.contacts.models import Contact, ContactNote, Identity, Merge, MergeSuggestion
from socialdesk.contacts.tags import do_refresh_tags, manual_tags

# The fields a merge may fill on the target when the target has none.
FILLED = ("name", "email", "customer_id", "account_owner_id")
TIER_RANK = {Contact.Tier.NONE: 0, Contact.Tier.CUSTOMER: 1, Contact.Tier.VIP: 2}
SOURCE_FIELDS = ("name", "email", "customer_id", "tier", "account_owner_id", "tags")


class MergeError(ContactError):
    pass


def pick_target(a: Contact, b: Contact) -> tuple[Contact, Contact]:
    """(target, source) for two contacts: the customer-database one is kept, else the older."""
    if bool(a.customer_id) != bool(b.customer_id):
        return (a, b) if a.customer_id else (b, a)
    return (a, b) if a.pk < b.pk else (b, a)


def _check_mergeable(target: Contact, source: Contact) -> None:
    if target.pk == source.pk:
        raise MergeError("A contact cannot be merged into itself.")
    for contact in (target, source):
        if contact.merged_into_id:
            raise MergeError(f"Contact {contact.pk} was merged into contact "
                             f"{contact.merged_into_id}; merge that one instead.")
        if contact.erased_at:
            raise MergeError(f"Contact {contact.pk} was erased and cannot be merged.")
    if target.customer_id and source.customer_id and target.customer_id != source.customer_id:
        raise MergeError(f"Both contacts are linked to customer records ({target.customer_id} "
                         f"and {source.customer_id}): they are two customers.")


def _locked(*ids: int) -> dict[int, Contact]:
    found = {c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=ids)}
    for pk in ids:
        if pk not in found:
            raise MergeError(f"There is no contact {pk}.")
    return found


@transaction.atomic
def do_merge_contacts(target: Contact, source: Contact, actor,
                      suggestion: MergeSuggestion | None = None) -> Merge:
    """Merge `source` into `target`. Raises MergeError, changing nothing, when they
    cannot be one person (the same contact, merged or erased already, two customers)."""
    locked = _locked(target.pk, source.pk)
    target, source = locked[target.pk], locked[source.pk]
    _check_mergeable(target, source)
    now = timezone.now()
    moved = {
        "identities": sorted(Identity.objects.filter(contact=source)
                             .values_list("pk", flat=True)),
        "cases": sorted(Case.objects.filter(contact=source).values_list("pk", flat=True)),
        "notes": sorted(ContactNote.objects.filter(contact=source).values_list("pk", flat=True)),
    }
    Identity.objects.filter(pk__in=moved["identities"]).update(contact=target)
    Case.objects.filter(pk__in=moved["cases"]).update(contact=target)
    ContactNote.objects.filter(pk__in=moved["notes"]).update(contact=target)

    source_fields = {name: getattr(source, name) for name in SOURCE_FIELDS}
    changes: dict[str, list] = {}
    for name in FILLED:
        if not getattr(target, name) and getattr(source, name):
            changes[name] = [getattr(target, name), getattr(source, name)]
    if TIER_RANK[source.tier] > TIER_RANK[target.tier]:
        changes["tier"] = [target.tier, source.tier]
    added = [t for t in manual_tags(source.tags) if t not in target.tags]
    if added:
        changes["tags"] = [target.tags, [*target.tags, *added]]
    if "customer_id" in changes:
        source.customer_id = ""  # unique: it moves to the target
    source.merged_into = target
    source.save(update_fields=["customer_id", "merged_into"])
    for name, (_, after) in changes.items():
        setattr(target, name, after)
    if changes:
        target.save(update_fields=list(changes))

    merge = Merge.objects.create(target=target, source=source, moved=moved,
                                 source_fields=source_fields, target_changes=changes,
                                 merged_by=actor, merged_at=now)
    _decide_pair(target.pk, source.pk, MergeSuggestion.Status.ACCEPTED, actor, now, suggestion)
    do_record("contact.merged", actor=actor, at=now, contact=target.pk, merged=source.pk,
              merge=merge.pk, **moved)
    do_record_many([Event(at=now, actor=actor, verb="case.contact_merged", case_id=pk,
                          data={"from": source.pk, "to": target.pk, "merge": merge.pk})
                    for pk in moved["cases"]])
    do_refresh_tags([target.pk], now=now)
    return merge


@transaction.atomic
def do_unmerge(merge: Merge, actor) -> Merge:
    """Undo a merge: what moved goes back, both contacts get their fields back.

    Fields of the target the merge filled are restored only if nobody changed
    them since. Cases opened for the target after the merge stay with it.
    """
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise MergeError("This merge was already undone.")
    locked = _locked(merge.target_id, merge.source_id)
    target, source = locked[merge.target_id], locked[merge.source_id]
    if target.erased_at or source.erased_at:
        raise MergeError("An erased contact cannot be unmerged.")
    if source.merged_into_id != target.pk:
        raise MergeError(f"Contact {source.pk} is no longer merged into contact {target.pk}.")
    if target.merged_into_id:
        raise MergeError(f"Contact {target.pk} was itself merged into contact "
                         f"{target.merged_into_id} since; undo that merge first.")
    fields = merge.source_fields
    customer = fields.get("customer_id", "")
    if customer and Contact.objects.filter(customer_id=customer).exclude(
            pk__in=[target.pk, source.pk]).exists():
        raise MergeError(f"Customer {customer} belongs to another contact now.")
    now = timezone.now()
    moved = merge.moved
    back = {
        "identities": list(Identity.objects.filter(pk__in=moved.get("identities", []),
                                                   contact=target).values_list("pk", flat=True)),
        "cases": list(Case.objects.filter(pk__in=moved.get("cases", []), contact=target)
                      .values_list("pk", flat=True)),
        "notes": list(ContactNote.objects.filter(pk__in=moved.get("notes", []), contact=target)
                      .values_list("pk", flat=True)),
    }
    Identity.objects.filter(pk__in=back["identities"]).update(contact=source)
    Case.objects.filter(pk__in=back["cases"]).update(contact=source)
    ContactNote.objects.filter(pk__in=back["notes"]).update(contact=source)

    restored = []
    for name, (before, after) in merge.target_changes.items():
        if name == "tags":
            added = [t for t in after if t not in before]
            target.tags = [t for t in target.tags if t not in added]
            restored.append(name)
        elif getattr(target, name) == after:
            setattr(target, name, before)
            restored.append(name)
    if restored:
        target.save(update_fields=restored)
    for name in SOURCE_FIELDS:
        setattr(source, name, fields.get(name, getattr(source, name)))
    source.merged_into = None
    source.save(update_fields=[*SOURCE_FIELDS, "merged_into"])

    merge.undone_at, merge.undone_by = now, actor
    merge.save(update_fields=["undone_at", "undone_by"])
    # Unmerging says they are two people: the pair is not suggested again.
    _decide_pair(target.pk, source.pk, MergeSuggestion.Status.REJECTED, actor, now)
    do_record("contact.unmerged", actor=actor, at=now, contact=target.pk, restored=source.pk,
              merge=merge.pk, **back)
    do_record_many([Event(at=now, actor=actor, verb="case.contact_unmerged", case_id=pk,
                          data={"from": target.pk, "to": source.pk, "merge": merge.pk})
                    for pk in back["cases"]])
    do_refresh_tags([target.pk, source.pk], now=now)
    return merge


def _decide_pair(one: int, other: int, status: str, actor, now,
                 suggestion: MergeSuggestion | None = None) -> None:
    a, b = min(one, other), max(one, other)
    decided = {"status": status, "decided_by": actor, "decided_at": now}
    if suggestion is not None and (suggestion.contact_a_id, suggestion.contact_b_id) == (a, b):
        MergeSuggestion.objects.filter(pk=suggestion.pk).update(**decided)
        return
    updated = MergeSuggestion.objects.filter(contact_a_id=a, contact_b_id=b).update(**decided)
    if not updated and status == MergeSuggestion.Status.REJECTED:
        MergeSuggestion.objects.create(contact_a_id=a, contact_b_id=b,
                                       reason=MergeSuggestion.Reason.MANUAL, evidence={},
                                       **decided)


@transaction.atomic
def do_decide_suggestion(suggestion: MergeSuggestion, accept: bool, actor) -> Merge | None:
    """Accept (merge the pair) or reject a pending suggestion."""
    suggestion = MergeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != MergeSuggestion.Status.PENDING:
        raise MergeError(f"This suggestion was already {suggestion.get_status_display().lower()}.")
    now = timezone.now()
    if not accept:
        _decide_pair(suggestion.contact_a_id, suggestion.contact_b_id,
                     MergeSuggestion.Status.REJECTED, actor, now, suggestion)
        do_record("contact.merge_rejected", actor=actor, at=now,
                  contact=suggestion.contact_a_id, other=suggestion.contact_b_id,
                  suggestion=suggestion.pk, reason=suggestion.reason)
        return None
    target, source = pick_target(suggestion.contact_a, suggestion.contact_b)
    return do_merge_contacts(target, source, actor, suggestion=suggestion)
