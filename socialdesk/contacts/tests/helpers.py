"""What the contacts tests share: finding a person's contact by handle."""

from socialdesk.contacts.models import Contact, Identity


def contact_of(handle: str, channel: str = "x") -> Contact:
    return Identity.objects.select_related("contact").get(channel=channel, handle=handle).contact


def snapshot(contact: Contact) -> dict:
    """What a contact holds: its identities, cases, notes and fields."""
    contact.refresh_from_db()
    return {
        "identities": sorted(contact.identities.values_list("pk", flat=True)),
        "cases": sorted(contact.cases.values_list("pk", flat=True)),
        "notes": sorted(contact.notes.values_list("pk", flat=True)),
        "fields": (contact.name, contact.email, contact.customer_id, contact.tier,
                   contact.account_owner_id, contact.tags, contact.merged_into_id),
    }
