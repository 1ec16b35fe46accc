from django.conf import settings
from django.core.management.base import BaseCommand

from socialdesk.pipeline import process_backlog


class Command(BaseCommand):
    help = "Process stored posts that were never processed (after an interrupted import)."

    def handle(self, *args, **options):
        count = process_backlog()
        done = "queued for the workers" if settings.SCALE_OUT else "processed"
        self.stdout.write(f"{count:,} stored posts were waiting; {done}.")
