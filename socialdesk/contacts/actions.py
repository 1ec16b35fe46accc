from django.utils import timezone

from socialdesk.contacts.models import Contact, Identity
from socialdesk.lib.bulk import bulk_update_fields, insert_rows

AuthorKey = tuple[str, str]  # (channel, handle)


def do_resolve_identities(authors: dict[AuthorKey, tuple[str, int | None]]) -> dict[AuthorKey, int]:
    """Identity ids for (channel, handle) keys, creating a contact for each new one.

    `authors` maps each key to the (name, followers) last seen; those are
    refreshed on known identities when they changed.
    """
    found: dict[AuthorKey, int] = {}
    changed = []
    by_channel: dict[str, list[str]] = {}
    for channel, handle in authors:
        by_channel.setdefault(channel, []).append(handle)
    for channel, handles in by_channel.items():
        for start in range(0, len(handles), 900):
            rows = Identity.objects.filter(channel=channel, handle__in=handles[start:start + 900])
            for pk, handle, name, followers in rows.values_list("id", "handle", "name",
                                                                "followers"):
                found[(channel, handle)] = pk
                new_name, new_followers = authors[(channel, handle)]
                if (new_name and new_name != name) or (
                    new_followers is not None and new_followers != followers
                ):
                    changed.append(Identity(pk=pk, name=new_name or name,
                                            followers=new_followers if new_followers is not None
                                            else followers))
    if changed:
        bulk_update_fields(changed, ["name", "followers"])

    missing = [key for key in authors if key not in found]
    if missing:
        now = timezone.now()
        contact_ids = insert_rows(Contact, ["name", "tier", "created_at"],
                                  [(authors[key][0], "", now) for key in missing])
        identity_ids = insert_rows(
            Identity, ["channel", "handle", "name", "followers", "contact"],
            [(channel, handle, *authors[(channel, handle)], contact_id)
             for (channel, handle), contact_id in zip(missing, contact_ids, strict=True)],
        )
        found.update(zip(missing, identity_ids, strict=True))
    return found
