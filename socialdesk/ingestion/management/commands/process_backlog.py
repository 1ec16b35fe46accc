from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from socialdesk.ingestion.models import Post
from socialdesk.pipeline import do_retry_failed, sweep_posts


class Command(BaseCommand):
    help = ("Process stored posts that were never processed (after an interrupted import); "
            "in the scale-out mode, queue them for the workers.")

    def add_arguments(self, parser):
        parser.add_argument("--retry-failed", action="store_true",
                            help="also try again the posts set aside because processing "
                                 "failed on them")

    def handle(self, *args, **options):
        if options["retry_failed"]:
            retried = do_retry_failed()
            self.stdout.write(f"{retried:,} posts set aside with an error are tried again.")
        sweep = sweep_posts(grace=timedelta(0))
        done = "queued for the workers" if settings.SCALE_OUT else "processed"
        self.stdout.write(f"{sweep.found:,} stored posts were waiting; {sweep.handled:,} {done}.")
        if sweep.unqueued:
            self.stderr.write(f"{sweep.unqueued:,} could not be queued: the broker is "
                              "unreachable. Try again once it is back.")
        unprocessed = Post.objects.filter(processed_at__isnull=True)
        if settings.SCALE_OUT:
            in_queue = unprocessed.filter(process_error="", queued_at__isnull=False).count()
            if in_queue:
                self.stdout.write(f"{in_queue:,} posts are queued and wait for a worker.")
        failed = unprocessed.exclude(process_error="").count()
        if failed:
            self.stdout.write(f"{failed:,} posts were set aside because processing failed on "
                              "them; --retry-failed tries them again.")
