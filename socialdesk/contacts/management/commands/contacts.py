import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from socialdesk.accounts.models import User
from socialdesk.contacts.actions import ContactError
from socialdesk.contacts.customers import (
    CustomerImportError,
    do_import_customers,
    read_customers,
)
from socialdesk.contacts.models import Contact
from socialdesk.contacts.privacy import do_erase_contact, do_record_export, export_json
from socialdesk.contacts.suggestions import do_fingerprint_backlog, do_suggest_merges
from socialdesk.contacts.tags import do_refresh_tags


def _user(username: str | None) -> User | None:
    if username is None:
        return None
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"--by: there is no user {username!r}")
    return user


def _contact(value: str) -> Contact:
    if not value.isascii() or not value.isdigit():
        raise CommandError(f"{value!r} is not a contact number")
    contact = Contact.objects.filter(pk=int(value)).first()
    if contact is None:
        raise CommandError(f"there is no contact {value}")
    return contact


class Command(BaseCommand):
    help = ("Contacts: import the customer database, suggest merges, refresh tags, and "
            "answer data-subject requests (docs/PRIVACY.md).")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser(
            "import", help="create or update contacts from a customers CSV (columns: id, name, "
                           "email, handles, tier, account_owner); all rows or none")
        load.add_argument("file")
        load.add_argument("--dry-run", action="store_true",
                          help="check every row and count what would change; change nothing")
        load.add_argument("--by", metavar="USERNAME", help="who imports it (for the audit log)")
        export = actions.add_parser("export", help="everything held about a contact, as JSON")
        export.add_argument("id", help="the contact's number")
        export.add_argument("-o", "--output", help="write to this file (default: standard output)")
        export.add_argument("--by", metavar="USERNAME", help="who asks (for the audit log)")
        erase = actions.add_parser("erase", help="erase a contact's personal data (cannot be "
                                                 "undone)")
        erase.add_argument("id", help="the contact's number")
        erase.add_argument("--confirm", metavar="ID",
                           help="the contact's number again, to confirm without a prompt")
        erase.add_argument("--by", metavar="USERNAME", help="who erases (for the audit log)")
        actions.add_parser("suggest", help="look for contacts that are one person (all of them)")
        actions.add_parser("refresh-tags", help="recompute every contact's computed tags "
                                                "(lets tags of old activity lapse)")

    def handle(self, *args, **options):
        getattr(self, "run_" + options["action"].replace("-", "_"))(options)

    def run_import(self, options):
        name = options["file"]
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"{name}: no such file")
        try:
            data = path.read_bytes()
        except OSError as e:
            raise CommandError(f"{name}: {e.strerror}") from None
        try:
            rows = read_customers(data)
            result = do_import_customers(rows, actor=_user(options["by"]),
                                         dry_run=options["dry_run"])
        except CustomerImportError as e:
            for error in e.errors:
                self.stderr.write(f"{name}: {error}")
            raise CommandError(f"{name}: {e}") from None
        self.stdout.write(f"{name}: {result.summary()}")

    def run_export(self, options):
        contact = _contact(options["id"])
        data = export_json(do_record_export(contact, _user(options["by"]), via="cli"))
        if not options["output"]:
            self.stdout.write(data)
            return
        try:
            Path(options["output"]).write_text(data + "\n", encoding="utf-8")
        except OSError as e:
            raise CommandError(f"{options['output']}: {e.strerror}") from None
        self.stderr.write(f"contact {contact.pk} written to {options['output']}")

    def run_erase(self, options):
        contact = _contact(options["id"])
        actor = _user(options["by"])
        confirm = options["confirm"]
        if confirm is None:
            if not sys.stdin.isatty():
                raise CommandError(f"erasing cannot be undone: add --confirm {contact.pk}")
            confirm = input(f"Erase contact {contact.pk}? This cannot be undone. "
                            "Type its number to confirm: ").strip()
        if confirm != str(contact.pk):
            raise CommandError(f"not confirmed ({confirm!r} is not {contact.pk}); "
                               "nothing was erased")
        try:
            counts = do_erase_contact(contact, actor)
        except ContactError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(f"contact {contact.pk} erased: {counts['posts']} posts, "
                          f"{counts['identities']} identities, {counts['cases']} cases, "
                          f"{counts['texts_scrubbed']} other texts redacted")

    def run_suggest(self, options):
        fingerprinted = do_fingerprint_backlog()
        new = do_suggest_merges()
        self.stdout.write(f"{len(new)} new merge suggestions ({fingerprinted} posts "
                          "fingerprinted); review them at /contacts/suggestions/")

    def run_refresh_tags(self, options):
        changed = do_refresh_tags()
        self.stdout.write(f"tags changed on {changed} contacts")
