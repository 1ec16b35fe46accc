from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from socialdesk.demo.setup import do_import_sample, do_set_up_accounts, drop_folder


class Command(BaseCommand):
    help = "Set up a demo desk (two accounts, the bundled sample) and serve it."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true",
                            help="set up and exit without starting the web server")

    def handle(self, *args, **options):
        passwords = do_set_up_accounts()
        report = do_import_sample(now=timezone.now())
        self.stdout.write(f"Sample: {report.created} posts imported, "
                          f"{report.duplicates} already there.")
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write("")
        self.stdout.write(f"  socialdesk is at {url}")
        for username, password in passwords.items():
            self.stdout.write(f"  {username:6} password: {password}")
        self.stdout.write("  (new passwords are made each time the demo starts)")
        self.stdout.write("")
        self.stdout.write(f"  Posts dropped in {drop_folder()} (.jsonl, docs/IMPORT.md) arrive by")
        self.stdout.write("  themselves; replies are written to "
                          f"{settings.OUTBOX_DIR}/<channel>.jsonl.")
        self.stdout.write("  The Channels page (admin) shows and connects the brand's accounts.")
        self.stdout.write("")
        if not options["no_serve"]:
            call_command("serve", host=options["host"], port=options["port"])
