"""The customer database link: a CSV of customers becomes contacts, by customer id.

Columns: id (required), name, email, handles ("x:@kettlefan;instagram:kettle.fan"),
tier (customer or vip; empty: customer), account_owner (a username). An empty
cell leaves what the desk has. Every row is checked before anything is written,
and one bad row stops the whole file: an import is all or nothing.

A customer's contact is the one with its id; else the contact that already has
one of its handles or, when exactly one contact has it, its e-mail. Further
contacts with its handles or e-mail are merged into it (contacts.merging:
recorded, and undone by unmerge). Handles nobody has yet become identities.
"""

import csv
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from socialdesk.accounts.models import User
from socialdesk.audit.actions import do_record
from socialdesk.contacts.models import Contact, Identity
from socialdesk.contacts.suggestions import do_suggest_merges
from socialdesk.contacts.tags import do_refresh_tags

COLUMNS = ("id", "name", "email", "handles", "tier", "account_owner")
TIERS = {"": Contact.Tier.CUSTOMER, "customer": Contact.Tier.CUSTOMER, "vip": Contact.Tier.VIP}
MAX_ROWS = 100_000
MAX_ERRORS = 50
_CHANNEL = re.compile(r"[a-z][a-z0-9_-]{0,31}")  # as the import schema names channels


class CustomerImportError(ValueError):
    """The file was refused; `errors` says where and why, one line each."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        more = " (and more)" if len(errors) >= MAX_ERRORS else ""
        super().__init__(f"{len(errors)} error{'s' if len(errors) != 1 else ''}{more}; "
                         "nothing was imported")


@dataclass
class CustomerRow:
    line: int
    customer_id: str
    name: str = ""
    email: str = ""
    handles: list[tuple[str, str]] = field(default_factory=list)
    tier: str = ""
    owner: User | None = None


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    identities_created: int = 0
    merged: int = 0
    dry_run: bool = False
    contact_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.rows} customers: {self.created} contacts created, {self.updated} "
                f"updated, {self.unchanged} unchanged; {self.identities_created} identities "
                f"created; {self.merged} contacts merged into a customer's"
                f"{' (dry run: nothing was changed)' if self.dry_run else ''}.")


def read_customers(data: bytes) -> list[CustomerRow]:
    """Check every row; CustomerImportError lists the problems with their row numbers
    (the header is row 1)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CustomerImportError([f"not UTF-8 text (byte {e.start})"]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as e:
        raise CustomerImportError([f"row 1: {e}"]) from None
    header = [(h or "").strip().lower() for h in header]
    reader.fieldnames = header
    errors = []
    if "id" not in header:
        errors.append("row 1: the header has no 'id' column "
                      f"(columns: {', '.join(COLUMNS)})")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        errors.append(f"row 1: unknown column{'s' if len(unknown) > 1 else ''} "
                      f"{', '.join(repr(h) for h in unknown)} (columns: {', '.join(COLUMNS)})")
    if errors:
        raise CustomerImportError(errors)
    users = {u.username: u for u in User.objects.filter(is_active=True)}
    rows: list[CustomerRow] = []
    seen_ids: dict[str, int] = {}
    seen_handles: dict[tuple[str, str], int] = {}
    line = 1
    try:
        for raw in reader:
            number, line = line + 1, reader.line_num
            if len(rows) >= MAX_ROWS:
                errors.append(f"more than {MAX_ROWS:,} rows: split the file")
                break
            if None in raw:
                errors.append(f"row {number}: more cells than the header has columns")
                continue
            if not any((v or "").strip() for v in raw.values()):
                continue
            try:
                row = _check_row(number, raw, users)
            except ValidationError as e:
                errors.append(f"row {number}: {e.message}")
                continue
            if row.customer_id in seen_ids:
                errors.append(f"row {number}: customer id {row.customer_id!r} is also on row "
                              f"{seen_ids[row.customer_id]}")
            seen_ids.setdefault(row.customer_id, number)
            for key in row.handles:
                if key in seen_handles and seen_handles[key] != number:
                    errors.append(f"row {number}: {key[0]}:@{key[1]} is also on row "
                                  f"{seen_handles[key]}")
                seen_handles.setdefault(key, number)
            rows.append(row)
            if len(errors) >= MAX_ERRORS:
                break
    except csv.Error as e:
        errors.append(f"row {line + 1}: {e}")
    if errors:
        raise CustomerImportError(errors[:MAX_ERRORS])
    return rows


def _cell(raw: dict, name: str, max_len: int) -> str:
    value = (raw.get(name) or "").strip()
    if len(value) > max_len:
        raise ValidationError(f"{name!r} is {len(value):,} characters; the limit is {max_len}")
    return value


def _check_row(number: int, raw: dict, users: dict[str, User]) -> CustomerRow:
    customer_id = _cell(raw, "id", 64)
    if not customer_id:
        raise ValidationError("'id' is empty")
    email = _cell(raw, "email", 254).lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(f"'email' {email[:40]!r} is not an e-mail address") from None
    tier = _cell(raw, "tier", 16).lower()
    if tier not in TIERS:
        raise ValidationError(f"'tier' must be customer or vip, not {tier!r}")
    owner_name = _cell(raw, "account_owner", 150)
    owner = users.get(owner_name) if owner_name else None
    if owner_name and owner is None:
        raise ValidationError(f"'account_owner': there is no active user {owner_name!r}")
    handles = []
    for part in _cell(raw, "handles", 4000).split(";"):
        part = part.strip()
        if not part:
            continue
        channel, sep, handle = part.partition(":")
        channel, handle = channel.strip().lower(), handle.strip().lstrip("@")
        if not sep or not handle:
            raise ValidationError(f"'handles': {part[:40]!r} is not channel:handle "
                                  "(e.g. x:@kettlefan)")
        if not _CHANNEL.fullmatch(channel):
            raise ValidationError(f"'handles': {channel[:40]!r} is not a channel name")
        if len(handle) > 255 or any(c.isspace() for c in handle):
            raise ValidationError(f"'handles': {handle[:40]!r} is not a handle")
        if (channel, handle) not in handles:
            handles.append((channel, handle))
    # An empty tier keeps the contact's; a contact new to the customer database
    # becomes a customer (see _import).
    return CustomerRow(number, customer_id, _cell(raw, "name", 255), email, handles,
                       TIERS[tier] if tier else "", owner)


class _DryRun(Exception):
    pass


def do_import_customers(rows: list[CustomerRow], actor=None,
                        dry_run: bool = False) -> ImportResult:
    """Create or update the customers' contacts; all or nothing. With `dry_run` the
    same work is done and rolled back, so the counts are what a real run does."""
    result = ImportResult(rows=len(rows), dry_run=dry_run)
    try:
        with transaction.atomic():
            _import(rows, actor, result)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result


def _matches(rows: list[CustomerRow]) -> tuple[dict, dict, dict]:
    """Contacts by customer id, identities by handle, contacts by e-mail: read in bulk."""
    by_customer, by_handle, by_email = {}, {}, {}
    ids = [r.customer_id for r in rows]
    for start in range(0, len(ids), 900):
        for contact in Contact.objects.filter(customer_id__in=ids[start:start + 900]):
            by_customer[contact.customer_id] = contact
    keys = [key for r in rows for key in r.handles]
    by_channel: dict[str, list[str]] = {}
    for channel, handle in keys:
        by_channel.setdefault(channel, []).append(handle)
    for channel, handles in by_channel.items():
        for start in range(0, len(handles), 900):
            for identity in (Identity.objects.select_related("contact")
                             .filter(channel=channel, handle__in=handles[start:start + 900])):
                by_handle[(channel, identity.handle)] = identity
    emails = sorted({r.email for r in rows if r.email})
    for start in range(0, len(emails), 900):
        chunk = emails[start:start + 900]
        # Only contacts not yet linked to a customer: an e-mail shared with another
        # customer's contact proves nothing.
        free = {"merged_into__isnull": True, "erased_at__isnull": True, "customer_id": ""}
        for pk, email in Contact.objects.filter(email__in=chunk, **free).values_list("pk",
                                                                                    "email"):
            by_email.setdefault(email, set()).add(pk)
        for pk, email in (Identity.objects.filter(email__in=chunk, contact__customer_id="")
                          .values_list("contact_id", "email")):
            by_email.setdefault(email, set()).add(pk)
    return by_customer, by_handle, by_email


def _plan(rows, by_customer, by_handle, by_email) -> list[tuple[CustomerRow, Contact | None,
                                                               list[int]]]:
    """Per row: its existing contact (or None) and the contacts to merge into it.
    Refuses rows that would take another customer's contact, or one another row takes."""
    errors, claimed, plans = [], {}, []
    for row in rows:
        own = by_customer.get(row.customer_id)
        linked = []
        for key in row.handles:
            identity = by_handle.get(key)
            if identity is None:
                continue
            other = identity.contact
            if other.customer_id and other.customer_id != row.customer_id:
                errors.append(f"row {row.line}: {key[0]}:@{key[1]} belongs to customer "
                              f"{other.customer_id} (contact {other.pk})")
            elif own is None or other.pk != own.pk:
                linked.append(other.pk)
        by_mail = by_email.get(row.email, set()) - {own.pk if own else None}
        if len(by_mail) == 1 and not linked:
            linked.extend(by_mail)
        linked = sorted(set(linked))
        for pk in [own.pk] if own else []:
            claimed.setdefault(pk, row.line)
        for pk in linked:
            if claimed.setdefault(pk, row.line) != row.line:
                errors.append(f"row {row.line}: contact {pk} is also matched by row "
                              f"{claimed[pk]}")
        plans.append((row, own, linked))
    if errors:
        raise CustomerImportError(errors[:MAX_ERRORS])
    return plans


def _import(rows: list[CustomerRow], actor, result: ImportResult) -> None:
    from socialdesk.contacts.merging import do_merge_contacts

    by_customer, by_handle, by_email = _matches(rows)
    plans = _plan(rows, by_customer, by_handle, by_email)
    linked_customers = {pk for _, _, linked in plans for pk in linked}
    contacts = {c.pk: c for c in Contact.objects.filter(pk__in=linked_customers)}
    now = timezone.now()
    touched = []
    for row, own, linked in plans:
        created = False
        if own is None and linked:
            own = contacts[linked.pop(0)]
        elif own is None:
            own = Contact.objects.create(customer_id=row.customer_id, name=row.name,
                                         email=row.email, tier=row.tier or Contact.Tier.CUSTOMER,
                                         account_owner=row.owner)
            created = True
        for pk in linked:
            do_merge_contacts(own, contacts[pk], actor)
            result.merged += 1
        own.refresh_from_db()
        wanted = {"customer_id": row.customer_id, "name": row.name, "email": row.email,
                  "tier": row.tier or own.tier or Contact.Tier.CUSTOMER,
                  "account_owner": row.owner}
        changed = [name for name, value in wanted.items()
                   if value and getattr(own, name) != value]
        for name in changed:
            setattr(own, name, wanted[name])
        if changed:
            own.save(update_fields=changed)
        new_handles = [key for key in row.handles if key not in by_handle]
        Identity.objects.bulk_create([
            Identity(channel=channel, handle=handle, name=row.name, email=row.email, contact=own)
            for channel, handle in new_handles])
        result.identities_created += len(new_handles)
        if created:
            result.created += 1
        elif changed or new_handles or linked:
            result.updated += 1
        else:
            result.unchanged += 1
        touched.append(own.pk)
    result.contact_ids = touched
    do_refresh_tags(touched, now=now)
    do_suggest_merges(touched)
    do_record("contacts.imported", actor=actor, at=now, rows=result.rows,
              created=result.created, updated=result.updated, unchanged=result.unchanged,
              identities_created=result.identities_created, merged=result.merged)
