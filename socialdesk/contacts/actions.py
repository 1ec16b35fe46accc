from django.utils import timezone

from socialdesk.contacts.models import Contact, Identity
from socialdesk.lib.bulk import bulk_update_fields, insert_rows


def do_resolve_identities(authors: dict[tuple[str, str], tuple[str, int | None]]) -> dict:
    """Identities for (channel, handle) keys, creating a contact for each new one.

    `authors` maps each key to the (name, followers) last seen; those are
    refreshed on known identities when they changed. Returns key → Identity.
    """
    found: dict[tuple[str, str], Identity] = {}
    keys = list(authors)
    by_channel: dict[str, list[str]] = {}
    for channel, handle in keys:
        by_channel.setdefault(channel, []).append(handle)
    for channel, handles in by_channel.items():
        for start in range(0, len(handles), 900):
            for identity in Identity.objects.filter(channel=channel,
                                                    handle__in=handles[start:start + 900]):
                found[(identity.channel, identity.handle)] = identity

    changed = []
    for key, identity in found.items():
        name, followers = authors[key]
        if (name and name != identity.name) or (
            followers is not None and followers != identity.followers
        ):
            identity.name = name or identity.name
            identity.followers = followers if followers is not None else identity.followers
            changed.append(identity)
    if changed:
        bulk_update_fields(changed, ["name", "followers"])

    missing = [key for key in keys if key not in found]
    if missing:
        now = timezone.now()
        contact_ids = insert_rows(Contact, ["name", "tier", "created_at"],
                                  [(authors[key][0], "", now) for key in missing])
        rows = [(channel, handle, authors[(channel, handle)][0], authors[(channel, handle)][1],
                 contact_id) for (channel, handle), contact_id in zip(missing, contact_ids,
                                                                      strict=True)]
        identity_ids = insert_rows(Identity, ["channel", "handle", "name", "followers", "contact"],
                                   rows)
        for pk, (channel, handle, name, followers, contact_id) in zip(identity_ids, rows,
                                                                      strict=True):
            found[(channel, handle)] = Identity(pk=pk, channel=channel, handle=handle, name=name,
                                                followers=followers, contact_id=contact_id)
    return found
