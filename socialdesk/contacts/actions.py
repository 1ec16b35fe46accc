"""Writes about contacts: identity resolution for the pipeline, notes, and the one
hook the pipeline calls after a batch (`do_refresh_contacts`).

Merging, the customer database, tags and privacy requests each have a module
of their own: merging.py, customers.py, tags.py, privacy.py.
"""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from socialdesk.audit.actions import do_record
from socialdesk.contacts.models import Contact, ContactNote, Identity
from socialdesk.lib.bulk import bulk_update_fields, delete_rows, insert_new_rows, insert_rows

AuthorKey = tuple[str, str]  # (channel, handle)
NOTE_MAX_CHARS = 5000


class ContactError(ValueError):
    """An action refused, with a message for the person who asked."""


@transaction.atomic(savepoint=False)
def do_resolve_identities(authors: dict[AuthorKey, tuple[str, int | None]],
                          profiles: dict[AuthorKey, tuple[str, str]] | None = None,
                          ) -> dict[AuthorKey, int]:
    """Identity ids for (channel, handle) keys, creating a contact for each new one.

    `authors` maps each key to the (name, followers) last seen; `profiles`, for
    the keys that have them, to the (e-mail, photo URL) last seen. Those are
    refreshed on known identities when they changed; a new identity's e-mail
    becomes its new contact's too. A few statements per batch, whatever its size.

    Safe with concurrent callers: an identity another transaction creates after
    the look-up is skipped by the insert (ON CONFLICT DO NOTHING), read back and
    refreshed like a known one; every key maps to the one row there is.
    """
    profiles = profiles or {}
    found: dict[AuthorKey, int] = {}
    changed: list[Identity] = []
    _read_identities(list(authors), authors, profiles, found, changed)
    missing = [key for key in authors if key not in found]
    if missing:
        created = _create_identities(missing, authors, profiles)
        found.update(created)
        skipped = [key for key in missing if key not in created]
        if skipped:
            # Committed by the other transaction (the insert waited for it), so
            # visible now; identities are never deleted.
            _read_identities(skipped, authors, profiles, found, changed)
    if changed:
        # In id order: concurrent batches that refresh the same identities lock
        # them in the same order.
        changed.sort(key=lambda identity: identity.pk)
        bulk_update_fields(changed, ["name", "followers", "email", "photo_url"])
    return found


def _read_identities(keys: list[AuthorKey], authors, profiles, found: dict[AuthorKey, int],
                     changed: list[Identity]) -> None:
    """Adds the stored identities among `keys` to `found`, and to `changed` those
    whose name, followers, e-mail or photo differ from what was last seen."""
    by_channel: dict[str, list[str]] = {}
    for channel, handle in keys:
        by_channel.setdefault(channel, []).append(handle)
    columns = ("id", "handle", "name", "followers", "email", "photo_url")
    for channel, handles in by_channel.items():
        for start in range(0, len(handles), 900):
            rows = Identity.objects.filter(channel=channel, handle__in=handles[start:start + 900])
            for pk, handle, name, followers, email, photo in rows.values_list(*columns):
                key = (channel, handle)
                found[key] = pk
                new_name, new_followers = authors[key]
                new_email, new_photo = _profile(profiles.get(key)) if profiles else ("", "")
                seen = (new_name or name,
                        new_followers if new_followers is not None else followers,
                        new_email or email, new_photo or photo)
                if seen != (name, followers, email, photo):
                    changed.append(Identity(pk=pk, name=seen[0], followers=seen[1],
                                            email=seen[2], photo_url=seen[3]))


def _create_identities(keys: list[AuthorKey], authors, profiles) -> dict[AuthorKey, int]:
    """Inserts an identity and its contact for each key; {key: id} for those inserted.

    A key another transaction has just inserted is skipped, and the contact made
    for it is deleted again (it never becomes visible). Creating the contacts
    first keeps the common case at two statements; the race costs one more.
    """
    now = timezone.now()
    contact_ids = insert_rows(
        Contact, ["name", "tier", "email", "created_at"],
        [(authors[key][0], "", _profile(profiles.get(key))[0], now) for key in keys])
    contact_of = dict(zip(keys, contact_ids, strict=True))
    # In key order, the one order every concurrent caller inserts (and waits) in.
    created = insert_new_rows(
        Identity, ["channel", "handle", "name", "followers", "email", "photo_url", "contact"],
        [(channel, handle, *authors[(channel, handle)],
          *_profile(profiles.get((channel, handle))), contact_of[(channel, handle)])
         for channel, handle in sorted(keys)],
        unique=("channel", "handle"),
    )
    delete_rows(Contact, [contact_of[key] for key in keys if key not in created])
    return created


def _profile(profile: tuple[str, str] | None) -> tuple[str, str]:
    if not profile:
        return "", ""
    email, photo = profile
    return (email or "").strip().lower(), (photo or "").strip()


def do_refresh_contacts(post_ids: Iterable[int], now=None) -> dict[str, int]:
    """After a batch of posts was triaged and filed: fingerprint its inbound posts,
    refresh the tags of the contacts who wrote them, and suggest merges for those
    contacts. The pipeline's one call into contacts after processing; a few
    statements per batch, none per post. Returns counts for the caller's log.
    """
    from socialdesk.contacts.suggestions import do_fingerprint_posts, do_suggest_merges
    from socialdesk.contacts.tags import do_refresh_tags

    leads = do_fingerprint_posts(list(post_ids))
    if not leads.contacts:
        return {"contacts": 0, "tags_changed": 0, "suggested": 0}
    return {"contacts": len(leads.contacts),
            "tags_changed": do_refresh_tags(leads.contacts, now=now),
            "suggested": len(do_suggest_merges(leads=leads))}


def check_live(contact: Contact) -> None:
    """Refuses changes to a contact merged into another or erased."""
    if contact.merged_into_id:
        raise ContactError(f"Contact {contact.pk} was merged into contact "
                           f"{contact.merged_into_id}: change that one.")
    if contact.erased_at is not None:
        raise ContactError("This contact was erased; nothing more is kept about them.")


@transaction.atomic
def do_add_contact_note(contact: Contact, author, text: str) -> ContactNote:
    text = (text or "").strip()
    if not text:
        raise ContactError("The note is empty.")
    if len(text) > NOTE_MAX_CHARS:
        raise ContactError(f"A note has at most {NOTE_MAX_CHARS:,} characters.")
    check_live(contact)
    note = ContactNote.objects.create(contact=contact, author=author, text=text)
    do_record("contact.note_added", actor=author, contact=contact.pk, note=note.pk)
    return note
