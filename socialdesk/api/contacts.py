"""Contacts in the JSON API: a person's profile and cases, merging, and the export."""

from datetime import datetime
from typing import Any

from ninja import Router, Schema
from ninja.errors import HttpError

from socialdesk.api.errors import responses
from socialdesk.api.schemas import BodyIn, CaseSummaryOut, DbId
from socialdesk.cases.queries import cases_visible_to
from socialdesk.connectors import channels
from socialdesk.contacts.actions import ContactError
from socialdesk.contacts.merging import do_merge_contacts, do_unmerge
from socialdesk.contacts.models import Contact, Merge
from socialdesk.contacts.privacy import do_record_export
from socialdesk.contacts.queries import access_contact, access_merge

router = Router(tags=["contacts"])


class IdentityOut(Schema):
    id: int
    channel: str
    handle: str
    name: str
    followers: int | None
    email: str
    photo_url: str
    profile_url: str


class ContactNoteOut(Schema):
    id: int
    text: str
    author: str
    created_at: datetime


class ContactOut(Schema):
    id: int
    name: str
    email: str
    customer_id: str
    tier: str
    account_owner: str | None
    tags: list[str]
    merged_into: int | None
    erased_at: datetime | None
    created_at: datetime
    identities: list[IdentityOut]
    notes: list[ContactNoteOut]


class MergeIn(BodyIn):
    other: DbId


class MergeOut(Schema):
    id: int
    target: int
    source: int
    moved: dict[str, list[int]]
    merged_by: str | None
    merged_at: datetime
    undone_by: str | None
    undone_at: datetime | None


def _contact_out(contact: Contact) -> dict:
    return {
        "id": contact.pk, "name": contact.name, "email": contact.email,
        "customer_id": contact.customer_id, "tier": contact.tier,
        "account_owner": contact.account_owner.username if contact.account_owner else None,
        "tags": contact.tags, "merged_into": contact.merged_into_id,
        "erased_at": contact.erased_at, "created_at": contact.created_at,
        "identities": [{"id": i.pk, "channel": i.channel, "handle": i.handle, "name": i.name,
                        "followers": i.followers, "email": i.email, "photo_url": i.photo_url,
                        "profile_url": channels.channel(i.channel).profile_url(i.handle)}
                       for i in contact.identities.order_by("channel", "handle")],
        "notes": [{"id": n.pk, "text": n.text, "author": n.author.username,
                   "created_at": n.created_at} for n in contact.notes.select_related("author")],
    }


def _merge_out(merge: Merge) -> dict:
    return {"id": merge.pk, "target": merge.target_id, "source": merge.source_id,
            "moved": merge.moved,
            "merged_by": merge.merged_by.username if merge.merged_by else None,
            "merged_at": merge.merged_at,
            "undone_by": merge.undone_by.username if merge.undone_by else None,
            "undone_at": merge.undone_at}


@router.get("/{contact_id}", response=responses({200: ContactOut}, not_found=True),
            summary="A contact's profile",
            description="404 for a contact with no case the user may see (supervisors and "
                        "admins see all).")
def get_contact(request, contact_id: DbId):
    return _contact_out(access_contact(request.user, contact_id))


@router.get("/{contact_id}/cases", response=responses({200: list[CaseSummaryOut]},
                                                     not_found=True),
            summary="The contact's cases that the user may see, newest first")
def list_contact_cases(request, contact_id: DbId):
    contact = access_contact(request.user, contact_id)
    cases = (cases_visible_to(request.user).filter(contact=contact)
             .select_related("team", "assignee").order_by("-opened_at", "-id"))
    return [{"id": c.pk, "ref": c.ref, "status": c.status, "priority": c.priority,
             "decision": c.decision, "category": c.category, "channel": c.channel,
             "team": c.team.slug if c.team else None,
             "assignee": c.assignee.username if c.assignee else None, "subject": c.subject,
             "opened_at": c.opened_at} for c in cases]


@router.post("/{contact_id}/merge",
             response=responses({200: MergeOut}, body=True, not_found=True),
             summary="Merge another contact into this one (its identities, cases and notes "
                     "move here)",
             description="404 when either contact is not one the user may see; 422 with a "
                         "message when they cannot be merged (the same contact, merged or "
                         "erased already, two customers).")
def merge_contact(request, contact_id: DbId, body: MergeIn):
    contact = access_contact(request.user, contact_id)
    other = access_contact(request.user, body.other)
    try:
        return _merge_out(do_merge_contacts(contact, other, request.user))
    except ContactError as e:
        raise HttpError(422, str(e)) from None


@router.post("/merges/{merge_id}/unmerge", response=responses({200: MergeOut},
                                                             not_found=True),
             summary="Undo a merge: what moved goes back, both contacts get their fields back",
             description="422 with a message when the merge was undone already or cannot be.")
def unmerge(request, merge_id: DbId):
    merge = access_merge(request.user, merge_id)
    try:
        return _merge_out(do_unmerge(merge, request.user))
    except ContactError as e:
        raise HttpError(422, str(e)) from None


@router.get("/{contact_id}/export",
            response=responses({200: dict[str, Any]}, forbidden=True, not_found=True),
            summary="Everything held about the person (data-subject access request)",
            description="Supervisors and admins only (403 for others); docs/PRIVACY.md lists "
                        "what it holds.")
def export_contact(request, contact_id: DbId):
    contact = access_contact(request.user, contact_id)
    if not (request.user.is_supervisor_or_admin or request.user.is_superuser):
        raise HttpError(403, "Only supervisors and admins export a contact's data.")
    return do_record_export(contact, request.user, via="api")
